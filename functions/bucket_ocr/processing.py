"""One object record in, one result JSON (or a dead-letter message) out.

Plain code: it takes a record, storage clients and an engine, and knows nothing of
Lambda, so workers, the emulator and tests all run this very path.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

from PIL import Image

from bucket_ocr import outputs, storage
from bucket_ocr.completion import completion_events
from bucket_ocr.documents import iter_pages
from bucket_ocr.engine.errors import EngineError
from bucket_ocr.errors import (
    EngineOutOfMemoryError,
    ObjectNotFoundError,
    OcrEngineFailedError,
    OutputNotRenderedError,
    PermanentError,
)
from bucket_ocr.events.records import ObjectRecord, ObjectRef, Origin, clean_etag
from bucket_ocr.events.synthetic import sequencer_after
from bucket_ocr.failures.dead_letters import DeadLetterQueue, dead_letter_body
from bucket_ocr.object_options import ObjectOptions, options_from_metadata
from bucket_ocr.observability import MetricUnit, count_failure, logger, metrics, tracer
from bucket_ocr.results import document
from bucket_ocr.results.claims import ClaimStore, ClaimTimes
from bucket_ocr.results.keys import result_key_for
from bucket_ocr.results.store import ExistingResult, ResultStore, output_keys
from bucket_ocr.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from bucket_ocr.completion.published import CompletionEvents
    from bucket_ocr.engine.text_line import PageReading

Status = document.Status | Literal["skipped"]
SkipReason = Literal["duplicate", "superseded", "own-output", "not-a-creation"]
# Sent by hand or by a Batch job to mend results, so without an S3 sequencer (``_order``).
_UNSEQUENCED_ORIGINS: frozenset[Origin] = frozenset({"direct", "s3-batch"})


class Engine(Protocol):
    """What the function needs of an OCR engine (``bucket_ocr.engine.OcrEngine``).

    ``read`` raises ``EngineError`` when the engine itself fails on a page; anything else
    it raises is a bug, and is left to surface.
    """

    def read(self, image: Image.Image) -> PageReading: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Outcome:
    status: Status
    bucket: str
    key: str
    result_key: str | None = None
    reason: SkipReason | None = None
    error_type: str | None = None
    pages: int = 0
    lines: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ObjectProcessor:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        s3: S3Client,
        dead_letters: DeadLetterQueue,
        *,
        claim_times: ClaimTimes | None = None,
        completion: CompletionEvents | None = None,
    ):
        self._settings = settings
        self._engine = engine
        self._s3 = s3
        self._results = ResultStore(s3, settings.results_bucket)
        claim_times = claim_times or ClaimTimes(
            lease_seconds=settings.claim_lease_seconds, wait_seconds=settings.claim_wait_seconds
        )
        self._claims = ClaimStore(s3, settings.results_bucket, settings.results_prefix, times=claim_times)
        self._dead_letters = dead_letters
        self._completion = completion or completion_events(
            settings.completion, s3=s3, results_bucket=settings.results_bucket, results_prefix=settings.results_prefix
        )
        self._engine_info = {**engine.describe(), "language": settings.language}

    def process(self, record: ObjectRecord, *, attempt: int = 1, request_id: str | None = None) -> Outcome:
        """Raises ``TransientError`` for what a retry may fix; everything else ends here."""
        with logger.append_context_keys(bucket=record.bucket, key=record.key, origin=record.origin):
            skipped = self._reason_to_skip(record)
            if skipped:
                logger.info("skipped", extra={"reason": skipped, "event_name": record.event_name})
                return Outcome("skipped", record.bucket, record.key, reason=skipped)
            run = _Run(
                record=record,
                result_key=result_key_for(self._settings.results_prefix, record.bucket, record.key),
                source=record,
                sequencer=record.sequencer,
                attempt=attempt,
                request_id=request_id,
            )
            try:
                # The result first: a Batch task or direct invocation is ordered after it
                # (``_order``) before anything can fail, so even its failed result replaces
                # an out-of-date one.
                existing = self._results.existing(run.result_key)
                self._order(run, existing)
                run.source, read_latest = self._identify(record)
                done = self._already_done(run, existing, source_checked=read_latest)
                if done:
                    return self._settle_duplicate(run, done)
                # The look that ends a wait is kept: looking again would HEAD, log and count
                # the duplicate a second time.
                found: Outcome | None = None

                def finished() -> bool:
                    nonlocal found
                    found = self._result_done(run)
                    return found is not None

                with self._claims.held(run.source, finished=finished, request_id=request_id) as mine:
                    if not mine:
                        return self._settle_duplicate(run, found or self._duplicate(run))
                    try:
                        return self._recognise(run)
                    except PermanentError as error:  # recorded while the claim is still ours
                        return self._failed(run, error)
            except PermanentError as error:
                return self._failed(run, error)

    def _order(self, run: _Run, existing: ExistingResult | None) -> None:
        """An S3 Batch Operations task or a direct invocation comes without S3's sequencer,
        and would count as older than any result an earlier event left: an out-of-date
        result (an overwrite whose event was lost), the very thing these are sent to mend,
        would never be replaced. It is placed just after that result, as a backfill's event
        is (events/synthetic.py), once: the looks under the claim and at the write judge
        against this same place, and a real event still to come orders later."""
        if run.record.origin in _UNSEQUENCED_ORIGINS and run.record.sequencer is None and existing is not None:
            run.sequencer = sequencer_after(existing.source_sequencer)

    def _already_done(self, run: _Run, existing: ExistingResult | None, *, source_checked: bool) -> Outcome | None:
        """A result for this version or a later one, or a source that has moved on.

        ``source_checked``: the source's latest version was just read, so it is current."""
        done = self._done_by(run, existing)
        if done is not None:
            return done
        if not source_checked and not self._is_current(run.source):
            # An event that arrives after the object was overwritten: the newer upload's
            # own event brings its OCR, so reading this one would be wasted.
            return self._superseded(run, "the source has a newer version")
        return None

    def _result_done(self, run: _Run) -> Outcome | None:
        """What a delivery waiting for another's claim looks for: one HEAD per look."""
        return self._done_by(run, self._results.existing(run.result_key))

    def _done_by(self, run: _Run, existing: ExistingResult | None) -> Outcome | None:
        """A result for this version (a duplicate event), or for a later one (an old event)."""
        if existing is not None and existing.covers(run.source.etag, run.source.version_id):
            run.existing = existing
            return self._duplicate(run)
        if existing is not None and existing.is_later_than(run.sequencer):
            return self._superseded(run, "the result describes a later upload")
        return None

    def _settle_duplicate(self, run: _Run, outcome: Outcome) -> Outcome:
        """A duplicate still owes the completion event its first delivery could not publish.

        Here, not in ``_result_done``: that also runs while waiting for another delivery's
        claim, and publishing there would let both deliveries publish.
        """
        if outcome.reason == "duplicate" and self._completion and run.existing is not None:
            existing = run.existing
            # the version the result was made from, as its metadata says: the marker's name
            made_from = ObjectRef(run.record.bucket, run.record.key, existing.source_version_id, existing.source_etag)
            if self._completion.republish_if_owed(run.result_key, made_from):
                logger.info("completion event published for an earlier result", extra={"result_key": run.result_key})
        return outcome

    def _superseded(self, run: _Run, why: str) -> Outcome:
        logger.info(f"superseded: {why}", extra={"result_key": run.result_key})
        return Outcome("skipped", run.record.bucket, run.record.key, result_key=run.result_key, reason="superseded")

    def _duplicate(self, run: _Run) -> Outcome:
        logger.info("duplicate event: result exists for this object version", extra={"result_key": run.result_key})
        metrics.add_metric(name="DuplicatesSkipped", unit=MetricUnit.Count, value=1)
        return Outcome("skipped", run.record.bucket, run.record.key, result_key=run.result_key, reason="duplicate")

    def _reason_to_skip(self, record: ObjectRecord) -> SkipReason | None:
        if self._settings.is_own_output(record.bucket, record.key):
            return "own-output"  # a result must never trigger OCR of itself
        if not record.is_creation:
            return "not-a-creation"
        return None

    def _identify(self, record: ObjectRecord) -> tuple[ObjectRef, bool]:
        """Etag and version for the duplicate check; a direct invocation or a Batch task may
        carry neither, and a HEAD of the latest version learns them. The flag says whether
        that HEAD was made: it also found the source current, and asking again at once
        would learn nothing more."""
        if record.etag or record.version_id:
            return record, False
        head = storage.head(self._s3, record)
        return replace(record, etag=clean_etag(head.get("ETag")), version_id=head.get("VersionId")), True

    def _recognise(self, run: _Run) -> Outcome:
        source = run.source
        timings = run.timings
        logger.info(
            "recognising",
            extra={"source_etag": source.etag, "source_version_id": source.version_id, "attempt": run.attempt},
        )
        clock = time.perf_counter()
        # X-Ray subsegments for the three phases a slow document can spend its time in.
        with tracer.provider.in_subsegment("## download"):
            download = storage.download(
                self._s3, source, version_id=source.version_id, max_bytes=self._settings.limits.max_object_bytes
            )
        timings.download_seconds = time.perf_counter() - clock
        doc_type, pages = iter_pages(
            download.data, source, limits=self._settings.limits, pdf_dpi=self._settings.pdf_dpi
        )
        run.source = source = replace(
            source,
            etag=download.etag or source.etag,
            version_id=download.version_id or source.version_id,
            size=download.size,
            content_type=doc_type.content_type,
        )
        # Before any page is read: a bad option fails the document, not after the OCR.
        run.options = options = options_from_metadata(
            download.metadata, self._settings.outputs, bucket=source.bucket, key=source.key
        )
        page_results: list[document.PageResult] = []
        with tracer.provider.in_subsegment("## ocr"):
            self._read_pages(pages, source, timings, page_results)
        timings.total_seconds = time.perf_counter() - run.started
        result = document.succeeded(
            source,
            self._engine_info,
            timings,
            page_results,
            run.request_id,
            job_tag=options.job_tag,
            outputs=output_keys(run.result_key, options.outputs),
        )
        sidecars = self._sidecars(source, options, result, download.data)
        written = self._write(run, result, sidecars)
        line_count = sum(len(page.lines) for page in page_results)
        metrics.add_metric(name="DocumentsSucceeded", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="PagesProcessed", unit=MetricUnit.Count, value=len(page_results))
        metrics.add_metric(name="OcrSeconds", unit=MetricUnit.Seconds, value=timings.ocr_seconds)
        logger.info(
            "recognised",
            extra={
                "result_key": run.result_key,
                "pages": len(page_results),
                "lines": line_count,
                "timings": timings.as_dict(),
                "source_etag": source.etag,
                "source_version_id": source.version_id,
                "result_written": written,
            },
        )
        if written and self._completion:
            # After the log and metrics: a failed publish (transient) must not hide the work done.
            self._completion.after_result(result, result_key=run.result_key)
        return Outcome(
            "succeeded" if written else "skipped",
            source.bucket,
            source.key,
            result_key=run.result_key,
            reason=None if written else "superseded",
            pages=len(page_results),
            lines=line_count,
            seconds=timings.total_seconds,
        )

    def _read_pages(
        self,
        pages: Iterator[Image.Image],
        where: ObjectRef,
        timings: document.Timings,
        page_results: list[document.PageResult],
    ) -> None:
        while True:
            clock = time.perf_counter()
            image = next(pages, None)
            timings.decode_seconds += time.perf_counter() - clock
            if image is None:
                break
            clock = time.perf_counter()
            reading = self._read(image, len(page_results), where)
            timings.ocr_seconds += time.perf_counter() - clock
            page_results.append(document.page_result(len(page_results), image, reading))
            del image  # one decoded page alive at a time

    def _sidecars(
        self, where: ObjectRef, options: ObjectOptions, result: dict[str, Any], source: bytes
    ) -> list[outputs.Rendered]:
        kinds = [kind for kind in options.outputs if kind != "json"]
        if not kinds:
            return []
        with tracer.provider.in_subsegment("## outputs"):
            try:
                rendered = outputs.render(result, source, where.content_type, kinds)
            except outputs.RenderError as cause:
                raise OutputNotRenderedError(
                    f"{', '.join(kinds)} could not be made: {cause}", bucket=where.bucket, key=where.key
                ) from cause
        return list(rendered.values())

    def _write(self, run: _Run, result: dict[str, Any], sidecars: Sequence[outputs.Rendered] = ()) -> bool:
        with tracer.provider.in_subsegment("## upload"):
            return self._results.put(
                run.result_key,
                result,
                sequencer=run.sequencer,
                source_is_current=lambda: self._is_current(run.source),
                sidecars=sidecars,
            )

    def _is_current(self, source: ObjectRef) -> bool:
        """Whether the source's latest version is still the one this run read."""
        try:
            head = storage.head(self._s3, source)
        except ObjectNotFoundError:
            return True  # deleted since: the result of what was there still stands
        latest = head.get("VersionId")
        if source.version_id and latest:
            return latest == source.version_id
        return not source.etag or clean_etag(head.get("ETag")) == source.etag

    def _read(self, image: Image.Image, index: int, where: ObjectRef) -> PageReading:
        """A page the engine fails on is read once more, on the spot.

        A fault of the moment passes the second time. The same failure twice is this page's
        doing: the engine is deterministic, so every retry by the platform would fail it
        again and the document would never get a result. It is the document's permanent
        failure instead, with the engine's message. Deciding here, not from the platform's
        attempt count, works the same everywhere: Lambda's async retries carry no count,
        and the broker's delivery count does not reach the core. Anything but an
        ``EngineError`` is a bug of ours and is not caught.
        """
        try:
            return self._engine.read(image)
        except EngineError as first:
            _out_of_memory_is_transient(first, where)
            logger.warning(
                "the engine failed on a page; reading it once more", extra={"page": index, "error": str(first)}
            )
        try:
            return self._engine.read(image)
        except EngineError as cause:
            _out_of_memory_is_transient(cause, where)
            raise OcrEngineFailedError(
                f"the OCR engine failed twice on page {index + 1}: {cause}", bucket=where.bucket, key=where.key
            ) from cause

    def _failed(self, run: _Run, error: PermanentError) -> Outcome:
        run.timings.total_seconds = time.perf_counter() - run.started
        logger.warning("permanent failure", extra={"error_type": type(error).__name__, "error": str(error)})
        count_failure(type(error).__name__)
        record = run.record
        # The dead letter goes first: if the result write then fails, the retry finds no
        # result and sends again (a duplicate letter), instead of finding a failed result,
        # skipping, and leaving no letter at all.
        self._dead_letters.send(
            dead_letter_body(
                record.raw, error, attempt=run.attempt, bucket=record.bucket, key=record.key, result_key=run.result_key
            )
        )
        failure = document.failed(
            run.source,
            self._engine_info,
            run.timings,
            error,
            run.request_id,
            job_tag=run.options.job_tag if run.options else None,
            outputs=output_keys(run.result_key, ("json",)),
        )
        written = False
        try:
            written = self._write(run, failure)
        except PermanentError as refused:
            # The letter above holds the event; a result S3 refuses to store (its key, its
            # permissions) must not turn a recorded failure into endless retries.
            logger.error(
                "failed result not written", extra={"error_type": type(refused).__name__, "error": str(refused)}
            )
        if written and self._completion:
            self._completion.after_result(failure, result_key=run.result_key)
        return Outcome(
            "failed",
            record.bucket,
            record.key,
            result_key=run.result_key,
            error_type=type(error).__name__,
            seconds=run.timings.total_seconds,
        )


def _out_of_memory_is_transient(error: EngineError, where: ObjectRef) -> None:
    """The host running out is not the document's fault: another instance or a later try may pass."""
    if isinstance(error.__cause__, MemoryError):
        raise EngineOutOfMemoryError(
            f"the OCR engine ran out of memory: {error}", bucket=where.bucket, key=where.key
        ) from error


@dataclass
class _Run:
    """One processing of one record: what it knows so far about the source and its timings."""

    record: ObjectRecord  # as the event named it
    result_key: str
    source: ObjectRef  # the same object, as far as this run has learnt it
    sequencer: str | None  # its place among the key's events: the record's, or one ``_order`` gave it
    attempt: int
    request_id: str | None
    timings: document.Timings = field(default_factory=document.Timings)
    options: ObjectOptions | None = None  # known once the object is downloaded
    existing: ExistingResult | None = None  # this version's result, found by a duplicate delivery
    started: float = field(default_factory=time.perf_counter)
