"""The functional tier's moto stack and engine, for the fuzz tier's cases through the function.

Imported rather than copied, so both tiers build the function the same way, on the same
models dir (tests/conftest.py).
"""

from __future__ import annotations

from tests.functional.conftest import engine, real_engine  # noqa: F401  (fixtures: pytest finds them by name here)
from tests.support.moto_app import fresh_metrics, moto_stack  # noqa: F401  (the same)
