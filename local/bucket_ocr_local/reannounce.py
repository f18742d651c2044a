"""Uploads MinIO accepted while it was coming back, announced again on the broker.

MinIO serves requests before it has loaded every bucket's notification rules and AMQP
target: an object written in the first moments after a restart can be stored with no
event at all (the soak lost 1 to 5 such uploads per restart, each written within 0.1 s
of MinIO answering ready). Nothing downstream can notice a missing event, so after each
restart the stack lists what was written around it and publishes, for every object whose
current version has no result yet, the direct event `{"bucket", "key"}` the function
reads like any other. An object that did get its event is read once all the same: the
claim and the duplicate check skip the second delivery.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import closing
from typing import Any

from bucket_ocr.amqp import Topology, connect, parse_amqp_url
from bucket_ocr_local.spec import StackSpec


def unannounced(spec: StackSpec, buckets: Iterable[str], *, since: float, until: float) -> Iterator[dict[str, str]]:
    """Objects written between ``since`` and ``until`` (epoch seconds) whose latest version has no result."""
    s3 = spec.client("s3")
    for bucket in buckets:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                written = item["LastModified"].timestamp()
                if since <= written <= until and not _has_result(s3, spec, bucket, item):
                    yield {"bucket": bucket, "key": item["Key"]}


def _has_result(s3: Any, spec: StackSpec, bucket: str, item: dict[str, Any]) -> bool:
    try:
        head = s3.head_object(Bucket=spec.results_bucket, Key=spec.result_key(item["Key"], bucket))
    except s3.exceptions.ClientError:
        return False
    return head.get("Metadata", {}).get("source-etag") == item["ETag"].strip('"')


def announce(spec: StackSpec, topology: Topology, objects: Iterable[dict[str, str]]) -> int:
    import pika

    sent = 0
    address = parse_amqp_url(spec.broker_url, variable="broker")
    with closing(connect(address, name="bucket-ocr-local reannounce")) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        for target in objects:
            body = json.dumps(target).encode()
            channel.basic_publish(
                topology.exchange, topology.routing_key, body, pika.BasicProperties(delivery_mode=2), mandatory=True
            )
            sent += 1
    return sent
