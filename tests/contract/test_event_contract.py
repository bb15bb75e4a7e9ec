"""docs/events (AsyncAPI + JSON Schemas) is generated from shared/events.py and must not drift."""
import json
import shutil
import subprocess
import uuid
from datetime import date, datetime, timezone

import jsonschema
import pytest
import yaml

from shared import contract
from shared.envelope import exchange_of, make_event
from shared.events import CATALOGUE


def test_published_contract_matches_the_code():
    stale = contract.drift()
    assert stale == [], f"run `make contract` and commit: {stale}"


@pytest.mark.parametrize("event_type", sorted(CATALOGUE))
def test_each_schema_is_valid_and_accepts_what_the_code_emits(event_type):
    schema = json.loads((contract.DOCS / "schemas" / f"{event_type}.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    service, cls = CATALOGUE[event_type]
    event = make_event(service, event_type, sample(cls()))
    jsonschema.validate(json.loads(json.dumps(event)), schema)
    wrong = json.loads(json.dumps(event))
    wrong["type"] = "SomethingElse"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, schema)


def test_asyncapi_names_exchange_and_routing_key_of_every_event():
    document = yaml.safe_load((contract.DOCS / "asyncapi.yaml").read_text())
    assert document["asyncapi"].startswith("2.")
    for event_type, (service, _) in CATALOGUE.items():
        channel = document["channels"][f"{exchange_of(service)}/{event_type}"]
        assert channel["bindings"]["amqp"]["exchange"]["name"] == f"{service}.events"
        assert channel["bindings"]["amqp"]["exchange"]["type"] == "topic"
        message = document["components"]["messages"][event_type]
        assert message["payload"]["$ref"] == f"schemas/{event_type}.json"
        assert message["contentType"] == "application/cloudevents+json"


def test_the_official_asyncapi_parser_finds_no_error_or_warning_and_reads_each_exchanges_owner():
    """@asyncapi/parser (npm, installed by `make test` from package-lock.json) on the committed document."""
    root = contract.DOCS.parents[1]
    assert shutil.which("node"), "Node.js is needed for the AsyncAPI parser (scripts/ensure_infra.sh installs it)"
    assert (root / "node_modules" / "@asyncapi" / "parser").is_dir(), "run `make node` (npm ci)"
    result = subprocess.run(["node", "scripts/check_asyncapi.mjs", str(contract.DOCS / "asyncapi.yaml")], cwd=root,
                            capture_output=True, text=True, timeout=60)
    report = json.loads(result.stdout)
    problems = [d for d in report["diagnostics"] if d["severity"] in ("error", "warning")]
    assert report["parsed"] and problems == [] and result.returncode == 0, problems or result.stderr
    assert report["owners"] == {f"{exchange_of(service)}/{event_type}": service
                                for event_type, (service, _) in CATALOGUE.items()}


def sample(schema):
    """A value for every field of a data schema (the first choice where choices are given)."""
    return {name: sample_value(field) for name, field in schema.fields.items()}


def sample_value(field):
    from marshmallow import fields

    choices = next((v.choices for v in field.validators if hasattr(v, "choices")), None)
    if "example" in field.metadata:
        return field.metadata["example"]
    if choices:
        return list(choices)[0]
    if isinstance(field, fields.Nested):
        return sample(field.schema)
    if isinstance(field, fields.List):
        return [sample_value(field.inner)]
    if isinstance(field, fields.Url):
        return "https://example.org/meeting"
    if isinstance(field, fields.UUID):
        return uuid.uuid4()
    if isinstance(field, fields.DateTime):
        return datetime.now(timezone.utc)
    if isinstance(field, fields.Date):
        return date(2021, 6, 30)
    if isinstance(field, fields.Boolean):
        return True
    if isinstance(field, fields.Integer):
        return 3
    if isinstance(field, fields.Float):
        return 1.5
    return "gera"
