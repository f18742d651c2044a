"""What both fuzz tiers share: their Hypothesis settings, and what they accept as a failure.

A failure is acceptable when it is a named permanent error that reads the same every time
and names the object it is about.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, Phase, settings

from bucket_ocr import errors

# A repr with an address (`<_io.BytesIO object at 0x7f3a...>`) makes one failure read
# differently on every run, which defeats grouping dead letters by message.
_MEMORY_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}")
# Every class the function may name for a document it refuses for good.
PERMANENT_ERROR_NAMES = frozenset(
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.PermanentError) and value is not errors.PermanentError
)


def fuzz_settings(*, max_examples: int, extra_health_checks: tuple[HealthCheck, ...] = ()) -> settings:
    """Seeded and repeatable: CI runs the same mutants every time, and a failure names its own."""
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,  # bounds.bounded times each case itself, with a clearer message
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=(HealthCheck.too_slow, *extra_health_checks),
        print_blob=True,
    )


def assert_named_permanent(error_type: str, message: str, where: str) -> None:
    assert error_type in PERMANENT_ERROR_NAMES, f"{error_type} is not a named permanent error: {message}"
    assert not _MEMORY_ADDRESS.search(message), f"the message carries a memory address: {message}"
    assert message.endswith(f"({where})"), f"the message does not name the object: {message}"
