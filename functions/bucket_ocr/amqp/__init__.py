"""RabbitMQ (AMQP 0-9-1): the broker of self-hosted deployments, where MinIO publishes uploads.

The one package that knows pika: addresses, connections, publishing, and the topology that
the setup command declares and the workers consume from.
"""

from bucket_ocr.amqp.address import AmqpAddress, is_amqp_url, parse_amqp_url
from bucket_ocr.amqp.connection import (
    Channel,
    Connection,
    Deliver,
    Properties,
    confirmed_channel,
    connect,
    not_taken_errors,
    publish_json,
    unavailable_errors,
)
from bucket_ocr.amqp.topology import Topology

__all__ = [
    "AmqpAddress",
    "Channel",
    "Connection",
    "Deliver",
    "Properties",
    "Topology",
    "confirmed_channel",
    "connect",
    "is_amqp_url",
    "not_taken_errors",
    "parse_amqp_url",
    "publish_json",
    "unavailable_errors",
]
