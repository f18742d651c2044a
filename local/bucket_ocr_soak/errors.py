"""Errors of the soak command; each says what is missing or what went wrong."""

from __future__ import annotations

from bucket_ocr_local.errors import BinaryNotFoundError, LocalStackError


class SoakError(LocalStackError):
    """Base class: the soak cannot run as asked, or its stack broke beyond repair."""


class ToxiproxyNotFoundError(BinaryNotFoundError):
    """toxiproxy-server is not built where the soak looks for it."""


class ToxiproxyError(SoakError):
    """Toxiproxy's REST API refused a call or did not answer."""


class UploadFailedError(SoakError):
    """An upload kept failing past its deadline, so the store did not come back."""
