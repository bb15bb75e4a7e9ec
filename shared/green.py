"""Eventlet monkey patching and green psycopg2, applied before anything else is imported.

Import this module first in every process that runs nameko containers (shared.runner, the
test session via `nameko test` + tests/conftest.py).
"""
import eventlet

eventlet.monkey_patch()

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()
