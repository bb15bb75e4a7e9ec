"""Eventlet monkey patching and green psycopg2, applied before anything else is imported.

Import this module first in every process that runs nameko containers (shared.runner, the
test session via `nameko test` + tests/conftest.py).
"""
import warnings

# nameko needs eventlet; its maintenance-mode notice on every start is known and not actionable.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()
