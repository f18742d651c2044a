"""What the stack left behind, read back from its own places: results, dead letters, logs, queues."""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from bucket_ocr_local import dead_letters, function_logs
from bucket_ocr_local.stack import LocalStack
from bucket_ocr_soak.measure import EngineRun, ResultSeen

# The function's line at the start of each engine run (issue #13's claim-before-OCR fix).
RECOGNISING = "recognising"


class StackProbe:
    def __init__(self, stack: LocalStack):
        self._stack = stack
        self._spec = stack.spec
        self._s3 = stack.spec.client("s3")

    # ---- results -------------------------------------------------------------------

    def result_etag(self, key: str) -> str | None:
        """The source etag the result was made from, from its metadata (one HEAD), or None."""
        try:
            head = self._s3.head_object(Bucket=self._spec.results_bucket, Key=self._spec.result_key(key))
        except self._s3.exceptions.ClientError:
            return None
        return head.get("Metadata", {}).get("source-etag") or None

    def result(self, key: str) -> ResultSeen | None:
        try:
            body = self._s3.get_object(Bucket=self._spec.results_bucket, Key=self._spec.result_key(key))["Body"].read()
        except self._s3.exceptions.NoSuchKey:
            return None
        document = json.loads(body)
        return ResultSeen(
            key=key,
            status=document.get("status"),
            source_etag=(document.get("source") or {}).get("etag"),
            processed_at=_epoch(document.get("processed_at")),
            function_seconds=(document.get("timings") or {}).get("total_seconds"),
        )

    # ---- dead letters and engine runs ------------------------------------------------

    def dead_letters_by_key(self) -> tuple[Counter[str], Counter[str]]:
        """Letters per source key of the input bucket, and letters per kind ("function", "redrive")."""
        per_key: Counter[str] = Counter()
        per_kind: Counter[str] = Counter()
        for letter in dead_letters.peek(self._spec, limit=100_000):
            per_kind[letter.kind] += 1
            for obj in letter.objects:
                if obj["bucket"] == self._spec.input_bucket:
                    per_key[obj["key"]] += 1
        return per_key, per_kind

    def engine_runs(self) -> list[EngineRun] | None:
        """Every engine run the workers logged; None when no worker logs them at all."""
        runs = [
            EngineRun(r.get("key"), r.get("source_etag"), r.get("source_version_id"))
            for r in function_logs.records(self._spec.work_dir)
            if r.get("message") == RECOGNISING and r.get("bucket") == self._spec.input_bucket
        ]
        return runs or None

    # ---- work still in flight -----------------------------------------------------

    def work_in_flight(self) -> int:
        """Events queued, held by a worker, or waiting on MinIO's disk for the broker."""
        if self._spec.broker_url:
            return self._broker_messages() + _files_in(Path(self._spec.work_dir) / "minio" / "undelivered-events")
        attributes = self._stack.spec.client("sqs").get_queue_attributes(
            QueueUrl=self._spec.events_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def _broker_messages(self) -> int:
        broker = self._stack.broker
        token = base64.b64encode(f"{broker.user}:{broker.password}".encode()).decode()
        request = urllib.request.Request(
            f"{broker.management_url}/api/queues/%2F/{self._spec.work_queue}",
            headers={"Authorization": f"Basic {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                queue = json.loads(response.read())
        except OSError:
            return 1  # the broker is not answering (restarting): count it as busy
        return int(queue.get("messages_ready", 0)) + int(queue.get("messages_unacknowledged", 0))


def _files_in(folder: Path) -> int:
    try:
        return sum(1 for path in folder.rglob("*") if path.is_file())
    except OSError:
        return 0


def _epoch(timestamp: Any) -> float | None:
    if not timestamp:
        return None
    return dt.datetime.fromisoformat(str(timestamp)).timestamp()
