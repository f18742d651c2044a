"""Where completion events go, read once at cold start.

``OCR_COMPLETION_EVENTS`` names the backend the way ``OCR_DEAD_LETTER_QUEUE_URL`` does:
``none`` (the default), ``eventbridge`` (the bus in ``OCR_EVENT_BUS_NAME``), or an
``amqp://`` URL whose ``exchange`` parameter names the topic exchange on the self-hosted
broker. Every refusal is a ``ConfigurationError`` naming the variable.

This module imports nothing that imports ``bucket_ocr.settings``, so that module can hold
a ``CompletionSettings`` without an import cycle.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bucket_ocr.amqp import AmqpAddress, is_amqp_url, parse_amqp_url
from bucket_ocr.errors import ConfigurationError

if TYPE_CHECKING:
    from bucket_ocr.settings import EnvironmentReader

BACKEND_VARIABLE = "OCR_COMPLETION_EVENTS"
BUS_VARIABLE = "OCR_EVENT_BUS_NAME"
ENDPOINT_VARIABLE = "OCR_EVENTS_ENDPOINT_URL"
DEFAULT_BUS = "default"
Backend = Literal["none", "eventbridge", "amqp"]
# EventBridge's rule for a bus name; an ARN (a bus in another account) is accepted too.
_BUS_NAME = re.compile(r"[/.\-_A-Za-z0-9]{1,256}")
_BUS_ARN = re.compile(r"arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[/.\-_A-Za-z0-9]{1,256}")
# What RabbitMQ accepts as an exchange name; "amq." names are the broker's own.
_EXCHANGE = re.compile(r"[A-Za-z0-9_.:\-]{1,255}")


@dataclass(frozen=True)
class CompletionSettings:
    backend: Backend = "none"
    event_bus_name: str = DEFAULT_BUS
    events_endpoint_url: str | None = None  # moto server, `sam local`
    broker: AmqpAddress | None = None
    exchange: str | None = None

    @property
    def enabled(self) -> bool:
        return self.backend != "none"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CompletionSettings:
        from bucket_ocr.settings import EnvironmentReader

        return cls.read(EnvironmentReader(os.environ if environ is None else environ))

    @classmethod
    def read(cls, env: EnvironmentReader) -> CompletionSettings:
        raw = env.text(BACKEND_VARIABLE, "none") or "none"
        if is_amqp_url(raw):
            broker, exchange = parse_exchange_url(raw, variable=BACKEND_VARIABLE)
            return cls(backend="amqp", broker=broker, exchange=exchange)
        if env.choice(BACKEND_VARIABLE, "none", ("none", "eventbridge")) == "none":
            return cls()
        bus = env.text(BUS_VARIABLE, DEFAULT_BUS) or DEFAULT_BUS
        if not (_BUS_NAME.fullmatch(bus) or _BUS_ARN.fullmatch(bus)):
            raise ConfigurationError(
                f"{BUS_VARIABLE} must be an event bus name (letters, digits and / . - _) or an event bus ARN, got {bus!r}"
            )
        return cls(backend="eventbridge", event_bus_name=bus, events_endpoint_url=env.optional(ENDPOINT_VARIABLE))


def parse_exchange_url(url: str, *, variable: str) -> tuple[AmqpAddress, str]:
    """``amqp://user:pass@host:5672/vhost?exchange=ocr-completions``: the broker, and the
    exchange, which is ours and not a pika option, so it is taken out before pika sees it."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    exchange = next((value for name, value in params if name == "exchange"), "")
    rest = urlunsplit((*parts[:3], urlencode([(n, v) for n, v in params if n != "exchange"]), ""))
    broker = parse_amqp_url(rest, variable=variable)
    if broker.queue:
        raise ConfigurationError(f"{variable} publishes to an exchange, not a queue: use ?exchange=NAME, not ?queue=")
    if not exchange:
        raise ConfigurationError(
            f"{variable} must name its exchange, e.g. amqp://user:pass@rabbitmq:5672/%2F?exchange=ocr-completions"
        )
    if not _EXCHANGE.fullmatch(exchange) or exchange.startswith("amq."):
        raise ConfigurationError(
            f"{variable}: exchange {exchange!r} must be 1-255 letters, digits or _ . : - and not start with amq."
        )
    return broker, exchange
