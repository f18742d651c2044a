"""The function assembled: settings, engine, clients and routing of one invocation.

Built once per process (Lambda's init phase, a worker's start); ``handle`` is called for
every event. Taking the engine and environment as arguments lets tests and the local
stack build as many apps as they need around one loaded engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bucket_ocr.clients import make_clients
from bucket_ocr.errors import EventError, TransientError
from bucket_ocr.events import EventKind, ObjectRecord, classify, records_from_payload
from bucket_ocr.events.routing import records_from_sqs_body
from bucket_ocr.failures.dead_letters import dead_letter_body, dead_letter_queue
from bucket_ocr.observability import count_failure, logger
from bucket_ocr.processing import Engine, ObjectProcessor, Outcome
from bucket_ocr.settings import Settings


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
    def __init__(self, settings: Settings, engine: Engine, s3: Any, sqs: Any):
        self.settings = settings
        self.engine = engine
        self.dead_letters = dead_letter_queue(settings.dead_letter_queue_url, sqs)
        self.processor = ObjectProcessor(settings, engine, s3, self.dead_letters)
        # A batch whose every message failed still answers with the list, like a partial
        # one, instead of raising: Lambda redelivers exactly the same messages either way.
        self._batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def handle(self, event: Any, context: Any = None) -> dict[str, Any]:
        request_id = getattr(context, "aws_request_id", None)
        if classify(event) is EventKind.SQS_BATCH:
            return process_partial_response(
                event=event,
                record_handler=lambda record: self._handle_message(record, request_id),
                processor=self._batch,
                context=context,
            )
        return {"outcomes": [o.as_dict() for o in self._process_all(records_from_payload(event), 1, request_id)]}

    def _process_all(self, records: list[ObjectRecord], attempt: int, request_id: str | None) -> list[Outcome]:
        """Every record gets its turn even when one needs a retry.

        The retry then redoes only the unfinished ones, because finished ones are found
        by the duplicate check.
        """
        outcomes, retry = [], []
        for record in records:
            try:
                outcomes.append(self.processor.process(record, attempt=attempt, request_id=request_id))
            except TransientError as error:
                logger.exception("transient failure: the event will be retried", extra={"error_type": type(error).__name__})
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
