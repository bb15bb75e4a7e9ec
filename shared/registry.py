"""The services this installation has, each declared by the service itself.

A service describes itself with a `ServiceSpec` in its package (`services/<name>/__init__.py`)
and announces it as an entry point of the group `smartcity.services` (pyproject.toml), so
`shared/` finds it without importing any service by name.
"""
import importlib
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

GROUP = "smartcity.services"


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int  # default HTTP port (SMARTCITY_<SERVICE>_HTTP_ADDRESS overrides it)
    service_class: str  # "module:Class" of the nameko service, imported only when run
    migrations: Path  # the folder of its SQL migrations
    max_workers: int = 10  # nameko's default max_workers for it (SMARTCITY_<SERVICE>_MAX_WORKERS)
    cli: str | None = None  # a module with `register(subparsers)` adding its `smartcity` commands
    demo: str | None = None  # a module with `already_loaded(api)` and `load(api)` for `make run`
    start_paths: tuple = ()  # what `make run` shows a person first: (path, what it is) pairs that answer 200
    pseudonyms: bool = False  # keys pseudonyms with SMARTCITY_[<SERVICE>_]PSEUDONYM_KEY (not the dev key in production)

    def load_class(self):
        module, _, attribute = self.service_class.partition(":")
        return getattr(importlib.import_module(module), attribute)


@cache
def services():
    """{name: ServiceSpec} of every installed service, in the order of their default ports."""
    specs = [point.load() for point in entry_points(group=GROUP)]
    if not specs:
        raise RuntimeError(f"no services registered under the entry-point group {GROUP!r}: run `make venv`")
    return {spec.name: spec for spec in sorted(specs, key=lambda spec: spec.port)}


def spec(name):
    try:
        return services()[name]
    except KeyError:
        raise ValueError(f"unknown service {name!r} (known: {', '.join(services())})") from None
