"""S3 Batch Operations' ``LambdaInvoke``: the tasks of one invocation, and the answer it wants.

A job built from a manifest or an S3 Inventory report invokes the function synchronously
with ``tasks`` (in practice one per invocation) and reads back a result code per task.
Schema 1.0 names the bucket by ARN (``s3BucketArn``), 2.0 by name (``s3Bucket``) and adds
``job.userArguments``; in both the key is URL-encoded, as in the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools.utilities.data_classes import S3BatchOperationEvent
from aws_lambda_powertools.utilities.data_classes.s3_batch_operation_event import S3BatchOperationTask

from bucket_ocr.errors import MalformedEventError
from bucket_ocr.events.records import ObjectRecord, Origin

SCHEMA_VERSIONS = ("1.0", "2.0")
ResultCode = Literal["Succeeded", "TemporaryFailure", "PermanentFailure"]
ORIGIN: Origin = "s3-batch"


def is_batch_operation(payload: Mapping[str, Any]) -> bool:
    return "invocationSchemaVersion" in payload and "tasks" in payload


@dataclass(frozen=True)
class BatchTask:
    task_id: str
    # None when the task itself is unreadable: it is answered PermanentFailure with why.
    record: ObjectRecord | None
    problem: str | None = None


@dataclass(frozen=True)
class BatchInvocation:
    schema_version: str
    invocation_id: str
    job_id: str | None
    user_arguments: Mapping[str, str]
    tasks: list[BatchTask]

    def response(self, results: list[dict[str, Any]]) -> dict[str, Any]:
        """What S3 Batch Operations reads back; every task is answered, so missing keys
        would only come from a bug, and are not to pass as done."""
        return {
            "invocationSchemaVersion": self.schema_version,
            "treatMissingKeysAs": "PermanentFailure",
            "invocationId": self.invocation_id,
            "results": results,
        }


def task_result(task_id: str, code: ResultCode, text: str) -> dict[str, Any]:
    return {"taskId": task_id, "resultCode": code, "resultString": text}


def parse_batch_operation(payload: Mapping[str, Any]) -> BatchInvocation:
    event = S3BatchOperationEvent(dict(payload))
    try:
        version, invocation_id, tasks = event.invocation_schema_version, event.invocation_id, payload["tasks"]
    except KeyError as cause:
        raise MalformedEventError(f"an S3 Batch Operations invocation lacks {cause}") from cause
    if version not in SCHEMA_VERSIONS:
        raise MalformedEventError(
            f"S3 Batch Operations invocation schema {version!r} is not one of {', '.join(SCHEMA_VERSIONS)}"
        )
    if not isinstance(tasks, list) or not isinstance(invocation_id, str):
        raise MalformedEventError("an S3 Batch Operations invocation needs an invocationId and a list of tasks")
    job = payload.get("job")
    if not isinstance(job, Mapping):
        job = {}
    job_id = job.get("id")
    arguments = job.get("userArguments") or {}
    return BatchInvocation(
        schema_version=version,
        invocation_id=invocation_id,
        job_id=job_id,
        user_arguments=dict(arguments) if isinstance(arguments, Mapping) else {},
        tasks=[
            _task(S3BatchOperationTask(dict(task)), job_id, invocation_id)
            for task in tasks
            if isinstance(task, Mapping)
        ],
    )


def records_from_batch_operation(payload: Mapping[str, Any]) -> list[ObjectRecord]:
    """The readable tasks' objects, for callers that only want to know what is in an event."""
    return [task.record for task in parse_batch_operation(payload).tasks if task.record is not None]


def _task(task: S3BatchOperationTask, job_id: str | None, invocation_id: str) -> BatchTask:
    task_id = str(task.get("taskId") or "")
    try:
        bucket, key = task.s3_bucket, task.s3_key
    except (KeyError, TypeError, AttributeError) as cause:
        return BatchTask(task_id, None, f"the task lacks {cause}")
    if not bucket or not key:
        return BatchTask(task_id, None, "the task names no bucket or no key")
    version_id = task.s3_version_id or None
    return BatchTask(
        task_id,
        ObjectRecord(
            bucket=bucket,
            key=key,
            event_name="ObjectCreated:BatchOperation",
            origin=ORIGIN,
            version_id=version_id,
            # A dead letter's record is redriven by sending it as an event: the direct
            # shape is one the function takes, and the job and task still show in it.
            raw={
                "bucket": bucket,
                "key": key,
                "version_id": version_id,
                "s3_batch": {"job_id": job_id, "invocation_id": invocation_id, "task_id": task_id},
            },
        ),
    )
