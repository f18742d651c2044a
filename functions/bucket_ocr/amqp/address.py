"""``amqp://user:pass@host:5672/vhost?queue=NAME``: a broker and, optionally, a queue on it.

A queue URL names the backend the way an SQS queue URL does, so one setting
(``OCR_DEAD_LETTER_QUEUE_URL``) says both where and on what. The ``queue`` parameter is
ours; every other parameter (heartbeat, TLS options...) is pika's and passes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bucket_ocr.errors import ConfigurationError

SCHEMES = ("amqp", "amqps")


@dataclass(frozen=True)
class AmqpAddress:
    broker_url: str  # what pika takes: the URL without our own parameters
    queue: str | None = None

    @property
    def redacted(self) -> str:
        """The URL without its password, for logs and error messages."""
        parts = urlsplit(self.broker_url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        user = f"{parts.username}:***@" if parts.username else ""
        return urlunsplit((parts.scheme, user + host, parts.path, "", ""))


def is_amqp_url(url: str) -> bool:
    return urlsplit(url).scheme in SCHEMES


def parse_amqp_url(url: str, *, variable: str, queue_required: bool = False) -> AmqpAddress:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ConfigurationError(f"{variable} must be an amqp:// or amqps:// URL with a host, got {_redact(url)!r}")
    params = parse_qsl(parts.query, keep_blank_values=True)
    queue = next((value for name, value in params if name == "queue"), None) or None
    if queue_required and not queue:
        raise ConfigurationError(
            f"{variable} must name its queue, e.g. amqp://user:pass@rabbitmq:5672/%2F?queue=ocr-dead-letters"
        )
    passed = urlencode([(name, value) for name, value in params if name != "queue"])
    return AmqpAddress(urlunsplit((parts.scheme, parts.netloc, parts.path, passed, "")), queue)


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)
