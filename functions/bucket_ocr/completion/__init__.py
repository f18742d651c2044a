"""Completion events: one per processed object, once its result is written (issue #11).

One body (``event.py``, ``completion.schema.json``), one backend per platform: Amazon
EventBridge on AWS, a RabbitMQ topic exchange self-hosted; ``published.py`` holds the
rule that makes a failed publish cost a retry, never the result or a second OCR.

Nothing is imported here at module level: ``bucket_ocr.settings`` may import
``completion.settings``, and the publishers import storage code that imports it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_s3 import S3Client

    from bucket_ocr.completion.published import CompletionEvents, Publisher
    from bucket_ocr.completion.settings import CompletionSettings


def publisher_for(settings: CompletionSettings, session: boto3.Session | None = None) -> Publisher | None:
    """The backend the settings name, or None when events are off."""
    if settings.backend == "eventbridge":
        import boto3
        from botocore.config import Config

        from bucket_ocr.completion.eventbridge import EventBridgePublisher

        events = (session or boto3.Session()).client(
            "events",
            endpoint_url=settings.events_endpoint_url,
            # Throttling and 5xx are retried here first, as for S3 and SQS (clients.py).
            config=Config(retries={"mode": "standard", "max_attempts": 4}),
        )
        return EventBridgePublisher(events, settings.event_bus_name)
    if settings.backend == "amqp":
        from bucket_ocr.completion.amqp_exchange import AmqpExchangePublisher

        if settings.broker is None or settings.exchange is None:
            raise ValueError("completion events on amqp need a broker and an exchange")
        return AmqpExchangePublisher(settings.broker, settings.exchange)
    return None


def completion_events(
    settings: CompletionSettings,
    *,
    s3: S3Client,
    results_bucket: str,
    results_prefix: str,
    session: boto3.Session | None = None,
) -> CompletionEvents | None:
    """What processing holds: None when events are off, so its calls are one ``if``."""
    from bucket_ocr.completion.published import CompletionEvents

    publisher = publisher_for(settings, session)
    return None if publisher is None else CompletionEvents(publisher, s3, results_bucket, results_prefix)
