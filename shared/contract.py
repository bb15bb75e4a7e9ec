"""The published event contract, generated from shared.events.

docs/events/schemas/<EventType>.json  one JSON Schema (draft-07) per event: the whole envelope
docs/events/asyncapi.yaml             AsyncAPI 2.6 with AMQP 0-9-1 bindings
"""
import inspect
import json
from pathlib import Path

import yaml
from apispec.ext.marshmallow import OpenAPIConverter

from shared.envelope import CONTENT_TYPE, SCHEMA_VERSION, SPECVERSION, dataschema_of, exchange_of, source_of
from shared.events import CATALOGUE
from shared.identities import owned_types, owners

DOCS = Path(__file__).resolve().parent.parent / "docs" / "events"
_converter = OpenAPIConverter(openapi_version="3.1.0", schema_name_resolver=lambda schema: None, spec=None)


def _describe(cls):
    return inspect.cleandoc(cls.__doc__) if cls.__doc__ else f"The {cls.__name__} event."


def event_schema(event_type):
    service, cls = CATALOGUE[event_type]
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": dataschema_of(event_type),
        "title": event_type,
        "description": _describe(cls),
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "datacontenttype", "dataschema", "data"],
        "properties": {
            "specversion": {"const": SPECVERSION},
            "id": {"type": "string", "minLength": 1, "description": "unique per event; consumers dedupe on it"},
            "source": {"const": source_of(service)},
            "type": {"const": event_type, "description": "also the AMQP routing key"},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": ["string", "null"], "description": "id of the entity the event is about"},
            "datacontenttype": {"const": "application/json"},
            "dataschema": {"const": dataschema_of(event_type)},
            "data": _converter.schema2jsonschema(cls()),
        },
    }


def _owner_table():
    rows = [f"| `{exchange}` | `{owner}` | {', '.join(owned_types(owner))} |" for exchange, owner in owners().items()]
    return "\n".join(["| exchange | owner (publishing user) | event types |", "|---|---|---|", *rows])


def asyncapi():
    channels, messages = {}, {}
    for event_type, (service, cls) in CATALOGUE.items():
        exchange = exchange_of(service)
        channels[f"{exchange}/{event_type}"] = {
            "description": f"{event_type} events from the {service} service; routing key `{event_type}`. "
                           f"Published only by the broker user `{service}`, the exchange's owner (AMQP user_id).",
            "bindings": {"amqp": {
                "is": "routingKey",
                "exchange": {"name": exchange, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"},
                "bindingVersion": "0.2.0",
            }},
            "subscribe": {
                "operationId": f"receive{event_type}",
                "summary": _describe(cls).splitlines()[0],
                "bindings": {"amqp": {"userId": service, "deliveryMode": 2, "ack": True, "bindingVersion": "0.2.0"}},
                "message": {"$ref": f"#/components/messages/{event_type}"},
            },
        }
        messages[event_type] = {
            "messageId": event_type,
            "name": event_type,
            "title": event_type,
            "contentType": CONTENT_TYPE,
            "payload": {"$ref": f"schemas/{event_type}.json"},
            "bindings": {"amqp": {"messageType": event_type, "bindingVersion": "0.2.0"}},
        }
    return {
        "asyncapi": "2.6.0",
        "id": "urn:smartcity:events",
        "info": {
            "title": "SmartCity participation events",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": (
                "Every event is a CloudEvents 1.0 structured-mode JSON envelope published to the emitting "
                "service's durable topic exchange `<service>.events`, with the event type as routing key and "
                "the event id as AMQP message-id. Delivery is at-least-once: deduplicate on `id`. "
                "Within a version, changes are additive only: ignore fields you do not know.\n\n"
                "Only an event's owner publishes it. Each exchange has one owner, a broker user that alone may "
                "publish to it; every message carries the AMQP `user_id` of its publisher, which RabbitMQ "
                "verifies against the user who logged in. Accept an event only when `user_id` is the owner of "
                "its exchange and its `source` is `/smartcity/<owner>`:\n\n" + _owner_table() + "\n\n"
                "Outside subscribers get a read-only user `sub-<name>` that may declare, bind and read queues "
                "named `sub-<name>.*` and publish nothing."
            ),
            "contact": {"name": "SmartCity participation platform", "url": "https://smartcity.invalid/beteiligung",
                        "email": "beteiligung@smartcity.invalid"},
            "license": {"name": "Not licensed yet: the project has chosen no licence"},
        },
        "tags": [{"name": "cloudevents", "description": "CloudEvents 1.0 structured JSON envelopes"},
                 {"name": "smartcity", "description": "citizen participation in Smart City municipalities"}],
        "servers": {"local": {
            "url": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1",
            "description": "the broker of `make run`; vhost `/`", "security": [{"brokerUser": []}],
        }},
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "components": {
            "messages": messages,
            "securitySchemes": {"brokerUser": {
                "type": "userPassword",
                "description": "A broker user of your own: `sub-<name>` for an outside subscriber (read-only).",
            }},
        },
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line text (the description with its owner table) as a literal block, as written."""


_Dumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


def rendered():
    """path -> file text, for every generated file."""
    files = {DOCS / "schemas" / f"{t}.json": json.dumps(event_schema(t), indent=2, ensure_ascii=False) + "\n"
             for t in CATALOGUE}
    files[DOCS / "asyncapi.yaml"] = (
        "# Generated by `smartcity contract --write` from shared/events.py. Do not edit by hand.\n"
        + yaml.dump(asyncapi(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    )
    return files


def drift():
    """Generated files whose committed text differs from the code, and stale schema files."""
    files = rendered()
    stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
    stale += [p for p in (DOCS / "schemas").glob("*.json") if p not in files]
    return stale


def write():
    (DOCS / "schemas").mkdir(parents=True, exist_ok=True)
    files = rendered()
    for path in (DOCS / "schemas").glob("*.json"):
        if path not in files:
            path.unlink()
    for path, text in files.items():
        path.write_text(text)
    return list(files)
