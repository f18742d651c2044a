"""Errors of the benchmark command; each names what to install or change."""


class BenchError(Exception):
    """Base class: the benchmark cannot run as asked."""


class TextSourceError(BenchError):
    """No installed text to build the corpus from (licenses, gettext catalogs)."""


class FontMissingError(BenchError):
    """The DejaVu fonts the corpus is rendered with are not installed."""


class ContestantUnavailableError(BenchError):
    """A contestant's engine (e.g. the tesseract binary or its language data) is missing."""


class MeasurementError(BenchError):
    """A measurement subprocess failed; its stderr tail is in the message."""
