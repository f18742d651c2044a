"""Errors the OCR engine raises; callers catch these instead of Paddle's own exceptions."""


class EngineError(Exception):
    """OCR inference failed (the original exception is chained as __cause__)."""


class EngineLoadError(EngineError):
    """The engine could not be created: missing/bad model bundle or an OCR runtime failure."""
