"""PaddleX's and PaddleOCR's own log lines, as the function's JSON lines, warnings only.

At import, PaddleX gives its logger a colour handler on stderr at INFO, and PaddleOCR
gives its own a plain one: every cold start printed a green "Creating model: ..." line
per model beside powertools' JSON. What they still have to say (warnings and errors)
goes through the function's logger handler instead, so it is one JSON line like ours.

Paddle also warns, as its extension builder loads, that no ccache is installed: a hint for
compiling custom operators, which inference never does, printed on every cold start.
"""

from __future__ import annotations

import logging
import warnings

from ..observability import logger

LIBRARY_LOGGERS = ("paddlex", "paddleocr")


def route_library_logs() -> None:
    """Call after `import paddleocr`: the libraries set their handlers up at import."""
    handler = logger.registered_handler
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers = [handler]
        library.setLevel(logging.WARNING)
        library.propagate = False


def ignore_build_hints() -> None:
    """Call before `import paddleocr`: Paddle warns as its modules load."""
    warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
