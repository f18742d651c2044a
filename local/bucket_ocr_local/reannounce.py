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

from collections.abc import Iterable, Iterator
from typing import Any

from bucket_ocr.amqp import Topology, confirmed_channel, parse_amqp_url, publish_json
from bucket_ocr.events.records import clean_etag
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
    return head.get("Metadata", {}).get("source-etag") == clean_etag(item["ETag"])


def announce(spec: StackSpec, topology: Topology, objects: Iterable[dict[str, str]]) -> int:
    sent = 0
    address = parse_amqp_url(spec.broker_url, variable="broker")
    with confirmed_channel(address, name="bucket-ocr-local reannounce") as channel:
        for target in objects:
            publish_json(channel, target, exchange=topology.exchange, routing_key=topology.routing_key, mandatory=True)
            sent += 1
    return sent
