"""Options an uploader sets on one object, in its user metadata (``x-amz-meta-ocr-*``).

Read from the GetObject response, so they work the same on AWS, moto and MinIO. They
are checked before any OCR: an invalid value is a permanent error naming the metadata
key (a dead letter and a failed result), never a crash or a silent default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bucket_ocr.errors import InvalidObjectOptionsError
from bucket_ocr.outputs import KINDS as OUTPUT_KINDS
from bucket_ocr.outputs import OutputKind

JOB_TAG_KEY = "ocr-job-tag"
OUTPUTS_KEY = "ocr-outputs"
# Textract's JobTag rule, so a tag that works there works here.
_JOB_TAG = re.compile(r"[A-Za-z0-9_.\-:]{1,64}")


class InvalidOutputsError(ValueError):
    """An outputs list names a kind that does not exist; the message lists the allowed ones."""


@dataclass(frozen=True)
class ObjectOptions:
    job_tag: str | None
    outputs: tuple[OutputKind, ...]  # always holds "json": the result document is the record of the run


def parse_outputs(raw: str) -> tuple[OutputKind, ...]:
    """``"pdf, hocr"`` -> ``("json", "hocr", "pdf")``: known kinds, in a fixed order, json always."""
    wanted = {part.strip().lower() for part in raw.split(",") if part.strip()}
    unknown = sorted(wanted - set(OUTPUT_KINDS))
    if unknown:
        raise InvalidOutputsError(
            f"unknown output {', '.join(map(repr, unknown))}; choose from {', '.join(OUTPUT_KINDS)}"
        )
    return tuple(kind for kind in OUTPUT_KINDS if kind in wanted or kind == "json")


def options_from_metadata(
    metadata: Mapping[str, str], default_outputs: tuple[OutputKind, ...], *, bucket: str, key: str
) -> ObjectOptions:
    job_tag = metadata.get(JOB_TAG_KEY)
    if job_tag is not None and not _JOB_TAG.fullmatch(job_tag):
        raise InvalidObjectOptionsError(
            f"x-amz-meta-{JOB_TAG_KEY} {job_tag!r} must be 1-64 letters, digits or _ . - :", bucket=bucket, key=key
        )
    outputs = default_outputs
    if OUTPUTS_KEY in metadata:
        try:
            outputs = parse_outputs(metadata[OUTPUTS_KEY])
        except InvalidOutputsError as error:
            raise InvalidObjectOptionsError(f"x-amz-meta-{OUTPUTS_KEY}: {error}", bucket=bucket, key=key) from error
    return ObjectOptions(job_tag=job_tag, outputs=outputs)
