"""The function assembled: settings, engine, clients and routing of one invocation.

Built once per process (Lambda's init phase, a worker's start); ``handle`` is called for
every event. Taking the engine and environment as arguments lets tests and the local
stack build as many apps as they need around one loaded engine.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bucket_ocr.clients import make_clients
from bucket_ocr.errors import EventError, TransientError
from bucket_ocr.events import EventKind, ObjectRecord, classify, records_from_payload
from bucket_ocr.events.batch_operations import BatchTask, ResultCode, parse_batch_operation, task_result
from bucket_ocr.events.routing import records_from_sqs_body
from bucket_ocr.failures.dead_letters import dead_letter_body, dead_letter_queue
from bucket_ocr.observability import SERVICE, count_failure, logger
from bucket_ocr.processing import Engine, ObjectProcessor, Outcome
from bucket_ocr.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


def load_engine(settings: Settings) -> Engine:
    from bucket_ocr.engine import EngineConfig, OcrEngine  # heavy: paddle and the models

    return OcrEngine(
        EngineConfig(
            models_dir=settings.models_dir,
            bundle=settings.model_bundle,
            language=settings.language,
            det_limit_side_len=settings.det_limit_side_len,
            orientation=settings.orientation == "auto",
            cache_dir=settings.cache_dir,
        )
    )


def create_app(environ: Mapping[str, str] | None = None, *, engine: Engine | None = None) -> OcrApp:
    settings = Settings.from_env(environ)
    engine = engine or load_engine(settings)
    s3, sqs = make_clients(settings)
    return OcrApp(settings, engine, s3, sqs)


class OcrApp:
    def __init__(self, settings: Settings, engine: Engine, s3: S3Client, sqs: SQSClient):
        self.settings = settings
        self.engine = engine
        self.dead_letters = dead_letter_queue(settings.dead_letter_queue_url, sqs)
        self.processor = ObjectProcessor(settings, engine, s3, self.dead_letters)
        # A batch whose every message failed still answers with the list, like a partial
        # one, instead of raising: Lambda redelivers exactly the same messages either way.
        # Given the service's logger (the stdlib logger powertools' Logger writes through), it
        # logs each message that raised with its traceback: a bug is seen, not just redelivered.
        self._batch = BatchProcessor(
            event_type=EventType.SQS, raise_on_entire_batch_failure=False, logger=logging.getLogger(SERVICE)
        )

    def handle(self, event: Any, context: LambdaContext | None = None) -> dict[str, Any]:
        """The answer each platform reads: ``batchItemFailures`` for SQS, a result code per
        task for S3 Batch Operations, the outcomes otherwise.

        Raises ``TransientError`` for the platform to retry; anything else raised is a bug.
        """
        request_id = context.aws_request_id if context is not None else None
        kind = classify(event)
        if kind is EventKind.SQS_BATCH:
            return dict(
                process_partial_response(
                    event=event,
                    record_handler=lambda record: self._handle_message(record, request_id),
                    processor=self._batch,
                    context=context,
                )
            )
        if kind is EventKind.S3_BATCH_OPERATION:
            return self._handle_batch_operation(event, request_id)
        return {"outcomes": [o.as_dict() for o in self._process_all(records_from_payload(event), 1, request_id)]}

    def _process_all(self, records: list[ObjectRecord], attempt: int, request_id: str | None) -> list[Outcome]:
        """Every record gets its turn even when one needs a retry.

        The retry then redoes only the unfinished ones, because finished ones are found
        by the duplicate check.
        """
        outcomes: list[Outcome] = []
        retry: list[TransientError] = []
        for record in records:
            try:
                outcomes.append(self.processor.process(record, attempt=attempt, request_id=request_id))
            except TransientError as error:
                logger.exception(
                    "transient failure: the event will be retried", extra={"error_type": type(error).__name__}
                )
                count_failure(type(error).__name__)
                retry.append(error)
        if retry:
            raise retry[0]
        return outcomes

    def _handle_message(self, message: SQSRecord, request_id: str | None) -> list[dict[str, Any]]:
        attempt = int(message.attributes.approximate_receive_count or 1)
        try:
            records = records_from_sqs_body(message.body)
        except EventError as error:
            # A body that is not an event fails the same way on every receive: dead-letter
            # it now with the message as it came, rather than burn the queue's receives.
            logger.warning("malformed SQS message", extra={"message_id": message.message_id, "error": str(error)})
            count_failure(type(error).__name__)
            self.dead_letters.send(
                dead_letter_body(message.raw_event, error, attempt=attempt, bucket=None, key=None, result_key=None)
            )
            return []
        if not records:
            logger.info("no objects in SQS message (an s3:TestEvent?)", extra={"message_id": message.message_id})
        return [o.as_dict() for o in self._process_all(records, attempt, request_id)]

    def _handle_batch_operation(self, event: Mapping[str, Any], request_id: str | None) -> dict[str, Any]:
        """S3 Batch Operations reads a result code per task from the response, so nothing
        is raised: a task that needs another go says ``TemporaryFailure`` and S3 retries
        that task alone."""
        invocation = parse_batch_operation(event)
        with logger.append_context_keys(batch_job_id=invocation.job_id, batch_invocation_id=invocation.invocation_id):
            results = [self._batch_task(task, request_id) for task in invocation.tasks]
        return invocation.response(results)

    def _batch_task(self, task: BatchTask, request_id: str | None) -> dict[str, Any]:
        if task.record is None:
            logger.warning(
                "unreadable S3 Batch Operations task", extra={"task_id": task.task_id, "error": task.problem}
            )
            count_failure("MalformedEventError")
            return task_result(task.task_id, "PermanentFailure", f"MalformedEventError: {task.problem}")
        try:
            outcome = self.processor.process(task.record, attempt=1, request_id=request_id)
        except TransientError as error:
            logger.exception("transient failure: S3 Batch Operations retries the task", extra={"task_id": task.task_id})
            count_failure(type(error).__name__)
            return task_result(task.task_id, "TemporaryFailure", f"{type(error).__name__}: {error}")
        # A permanent failure ends in processing (dead letter, failed result) and comes back
        # as an outcome. Anything else is a bug: it fails the invocation, which S3 reports for the task.
        code, text = batch_result_of(outcome, self.settings.results_bucket)
        return task_result(task.task_id, code, text)


# Skipped objects answer Succeeded: there is nothing left to do for them, and a job whose
# tasks fail past S3's threshold is stopped, which skips must never cause.
_SKIPPED = {
    "duplicate": "already done: the result exists for this object version",
    "superseded": "skipped: the object has a newer version, whose own result stands",
    "own-output": "skipped: a result written by this function, not a document",
}


def batch_result_of(outcome: Outcome, results_bucket: str) -> tuple[ResultCode, str]:
    where = f"s3://{results_bucket}/{outcome.result_key}" if outcome.result_key else ""
    if outcome.status == "succeeded":
        return "Succeeded", f"result written: {where}"
    if outcome.status == "failed":
        return "PermanentFailure", f"{outcome.error_type}: dead-lettered, failed result at {where}"
    text = _SKIPPED.get(outcome.reason or "", f"skipped: {outcome.reason}")
    return "Succeeded", f"{text} ({where})" if where else text
