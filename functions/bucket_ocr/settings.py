"""One settings object, read once at cold start from an injectable environment.

Every problem is reported as a ``ConfigurationError`` naming the variable, so a bad
deployment fails at init instead of on the first document.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast, get_args

from bucket_ocr.amqp import is_amqp_url, parse_amqp_url
from bucket_ocr.completion.settings import CompletionSettings
from bucket_ocr.errors import ConfigurationError
from bucket_ocr.models.bundles import DEFAULT_BUNDLE
from bucket_ocr.object_options import InvalidOutputsError, parse_outputs

if TYPE_CHECKING:
    from bucket_ocr.outputs import OutputKind

Orientation = Literal["auto", "off"]

REQUIRED_VARIABLES = ("OCR_RESULTS_BUCKET", "OCR_DEAD_LETTER_QUEUE_URL", "OCR_MODELS_DIR")


@dataclass(frozen=True)
class Limits:
    max_object_bytes: int = 50 * 1024 * 1024
    max_pages: int = 100
    # A4 at 300 DPI is 8.7 MP; 40 MP leaves room for large scans while keeping one
    # decoded page (RGB, 3 bytes a pixel) near 120 MB.
    max_page_pixels: int = 40_000_000


@dataclass(frozen=True)
class Settings:
    results_bucket: str
    dead_letter_queue_url: str
    models_dir: Path
    results_prefix: str = "ocr/"
    source_buckets: tuple[str, ...] = ()
    model_bundle: str = DEFAULT_BUNDLE
    language: str = "en"
    pdf_dpi: int = 150
    limits: Limits = field(default_factory=Limits)
    # What is written beside each result (object_options.OUTPUT_KINDS); an object's
    # x-amz-meta-ocr-outputs overrides it for that object.
    outputs: tuple[OutputKind, ...] = ("json",)
    # Where completion events go (completion/): nowhere, EventBridge or a RabbitMQ exchange.
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    s3_endpoint_url: str | None = None
    sqs_endpoint_url: str | None = None
    cache_dir: Path = Path("/tmp/bucket-ocr")
    det_limit_side_len: int = 960
    orientation: Orientation = "auto"  # "auto": turn sideways and upside-down pages upright
    # The claim that keeps two deliveries of one upload from both running OCR (results/claims.py).
    claim_lease_seconds: int = 10
    claim_wait_seconds: int = 300

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvironmentReader(os.environ if environ is None else environ)
        settings = cls(
            results_bucket=env.required("OCR_RESULTS_BUCKET"),
            dead_letter_queue_url=env.required("OCR_DEAD_LETTER_QUEUE_URL"),
            models_dir=Path(env.required("OCR_MODELS_DIR")),
            results_prefix=_normalise_prefix(env.text("OCR_RESULTS_PREFIX", "ocr/")),
            source_buckets=env.csv("OCR_SOURCE_BUCKETS"),
            model_bundle=env.text("OCR_MODEL_BUNDLE", DEFAULT_BUNDLE),
            language=env.text("OCR_LANGUAGE", "en"),
            pdf_dpi=env.integer("OCR_PDF_DPI", 150, low=36, high=600),
            limits=Limits(
                max_object_bytes=env.integer("OCR_MAX_OBJECT_BYTES", Limits.max_object_bytes, low=1),
                max_pages=env.integer("OCR_MAX_PAGES", Limits.max_pages, low=1),
                max_page_pixels=env.integer("OCR_MAX_PAGE_PIXELS", Limits.max_page_pixels, low=1),
            ),
            outputs=_outputs(env),
            completion=CompletionSettings.read(env),
            s3_endpoint_url=env.optional("OCR_S3_ENDPOINT_URL"),
            sqs_endpoint_url=env.optional("OCR_SQS_ENDPOINT_URL"),
            cache_dir=Path(env.text("OCR_CACHE_DIR", "/tmp/bucket-ocr")),
            det_limit_side_len=env.integer("OCR_DET_LIMIT_SIDE_LEN", 960, low=32, high=8192),
            orientation=cast(Orientation, env.choice("OCR_ORIENTATION", "auto", get_args(Orientation))),
            claim_lease_seconds=env.integer("OCR_CLAIM_LEASE_SECONDS", 10, low=3, high=3600),
            claim_wait_seconds=env.integer("OCR_CLAIM_WAIT_SECONDS", 300, low=0, high=86400),
        )
        settings.refuse_trigger_loop()
        if is_amqp_url(settings.dead_letter_queue_url):
            # Checked now so a URL without its queue fails at cold start, not at the first letter.
            parse_amqp_url(settings.dead_letter_queue_url, variable="OCR_DEAD_LETTER_QUEUE_URL", queue_required=True)
        return settings

    def refuse_trigger_loop(self) -> None:
        """A results bucket that also triggers the function must keep results apart.

        With no prefix every result would be a new upload, OCR'd again, forever.
        """
        if self.results_bucket in self.source_buckets and not self.results_prefix:
            raise ConfigurationError(
                "OCR_RESULTS_PREFIX must be set when OCR_RESULTS_BUCKET "
                f"({self.results_bucket!r}) is also in OCR_SOURCE_BUCKETS: every result "
                "would trigger the function again"
            )

    def is_own_output(self, bucket: str, key: str) -> bool:
        return bucket == self.results_bucket and key.startswith(self.results_prefix)


def _outputs(env: EnvironmentReader) -> tuple[OutputKind, ...]:
    try:
        outputs = parse_outputs(env.text("OCR_OUTPUTS", "json"))
    except InvalidOutputsError as error:
        raise ConfigurationError(f"OCR_OUTPUTS: {error}") from None
    if env.boolean("OCR_TEXT_SIDECAR", False) and "txt" not in outputs:
        # OCR_TEXT_SIDECAR=true came first and still means "also write the .txt".
        outputs = parse_outputs(",".join((*outputs, "txt")))
    return outputs


def _normalise_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


class EnvironmentReader:
    """Typed reads of an environment; every refusal is a ``ConfigurationError`` naming the variable."""

    def __init__(self, environ: Mapping[str, str]):
        self._env = environ

    def optional(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def required(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            raise ConfigurationError(f"{name} is required and is not set")
        return value

    def text(self, name: str, default: str) -> str:
        value = self._env.get(name)
        return default if value is None else value.strip()

    def csv(self, name: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in self._env.get(name, "").split(",") if part.strip())

    def integer(self, name: str, default: int, *, low: int, high: int | None = None) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            raise ConfigurationError(f"{name} must be {bounds}, got {value}")
        return value

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name, default).lower() or default
        if value not in allowed:
            raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.optional(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigurationError(f"{name} must be true or false, got {raw!r}")
