"""Races between instances, forced into the order under test with events, not sleeps.

Two deliveries of one upload must be read once; a slow run of an old version must not
leave its result over the newer version's; S3 refusals are permanent for their object.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from bucket_ocr.app import OcrApp
from bucket_ocr.clients import make_clients
from bucket_ocr.events.records import ObjectRef
from bucket_ocr.processing import ObjectProcessor
from bucket_ocr.results.claims import ClaimStore, ClaimTimes
from bucket_ocr_local.runtimes.context import lambda_context
from tests.functional.test_function_on_moto import LINES, png
from tests.support.moto_app import RawBody, refuse, s3_event

pytestmark = pytest.mark.functional

DENIED_WARNING = (
    "HEAD of a result was denied (403): grant s3:ListBucket on the results bucket so "
    "a missing result reads as 404; going on as if there were none"
)

QUICK_CLAIMS = ClaimTimes(lease_seconds=1.0, wait_seconds=60.0, poll_seconds=0.05)


@dataclass
class GatedEngine:
    """The real engine behind a gate: a run announces it has started reading, then waits
    until the test lets it go on, so another instance can be made to act in between."""

    engine: Any
    started: threading.Event = field(default_factory=threading.Event)
    go: threading.Event = field(default_factory=threading.Event)
    runs: int = 0

    def read(self, image):
        self.runs += 1
        self.started.set()
        assert self.go.wait(120), "the test never opened the gate"
        return self.engine.read(image)

    def describe(self):
        return self.engine.describe()


def instance_and_client(stack, engine) -> tuple[OcrApp, Any]:
    """Another function instance on the same buckets, with its own clients and quick claims,
    and its S3 client, for a test to watch or fail its requests through botocore's hooks."""
    s3, sqs = make_clients(stack.settings)
    app = OcrApp(stack.settings, engine, s3, sqs)
    app.processor = ObjectProcessor(stack.settings, engine, s3, app.dead_letters, claim_times=QUICK_CLAIMS)
    return app, s3


def instance(stack, engine) -> OcrApp:
    return instance_and_client(stack, engine)[0]


def in_thread(app: OcrApp, event: dict[str, Any]) -> tuple[threading.Thread, dict[str, Any]]:
    answer: dict[str, Any] = {}

    def run():
        try:
            answer["response"] = app.handle(event, lambda_context())
        except BaseException as error:  # noqa: BLE001 - whatever the thread met is handed to the test to assert on
            answer["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, answer


def on_precondition_failed(s3: Any) -> threading.Event:
    """Set when this S3 client is told a conditional write lost (HTTP 412)."""
    seen = threading.Event()

    def check(http_response, **_):
        if http_response.status_code == 412:
            seen.set()

    s3.meta.events.register("after-call.s3.PutObject", check)
    return seen


def event_for(stack, key, etag, sequencer=None):
    event = s3_event(stack, key, etag)
    if sequencer is None:
        event["Records"][0]["s3"]["object"].pop("sequencer", None)
    else:
        event["Records"][0]["s3"]["object"]["sequencer"] = sequencer
    return event


def outcome(answer) -> dict[str, Any]:
    assert "error" not in answer, answer.get("error")
    [only] = answer["response"]["outcomes"]
    return only


def test_two_deliveries_of_one_upload_at_once_are_read_once(moto_stack, real_engine):
    # given one upload whose event reaches two instances at the same moment
    etag = moto_stack.upload("twice.png", png(LINES))
    event = event_for(moto_stack, "twice.png", etag)
    first_engine, second_engine = GatedEngine(real_engine), GatedEngine(real_engine)
    first = instance(moto_stack, first_engine)
    second, second_s3 = instance_and_client(moto_stack, second_engine)
    second_lost = on_precondition_failed(second_s3)

    # when the first has claimed the object and is reading it
    first_thread, first_answer = in_thread(first, event)
    assert first_engine.started.wait(60)
    # and the second finds the claim taken
    second_thread, second_answer = in_thread(second, event)
    assert second_lost.wait(60)
    first_engine.go.set()
    second_engine.go.set()
    first_thread.join(120)
    second_thread.join(120)

    # then the engine ran once; the second instance waited for the result and skipped
    assert (first_engine.runs, second_engine.runs) == (1, 0)
    assert outcome(first_answer)["status"] == "succeeded"
    assert (outcome(second_answer)["status"], outcome(second_answer)["reason"]) == ("skipped", "duplicate")
    assert moto_stack.result("twice.png")["status"] == "succeeded"
    # and the claim is gone once the work is done
    assert [k for k in moto_stack.result_keys() if "/.claims/" in k] == []


def test_a_claim_left_by_a_dead_instance_is_taken_over_when_its_lease_runs_out(moto_stack, real_engine):
    # given an instance that claimed an upload and died (its claim stays, never renewed)
    etag = moto_stack.upload("orphan-claim.png", png(LINES))
    event = event_for(moto_stack, "orphan-claim.png", etag)
    dead = ClaimStore(moto_stack.s3, moto_stack.results_bucket, moto_stack.settings.results_prefix, times=QUICK_CLAIMS)
    identity = ObjectRef(moto_stack.input_bucket, "orphan-claim.png", None, etag)
    moto_stack.s3.put_object(Bucket=moto_stack.results_bucket, Key=dead.key_for(identity), Body=b"{}", IfNoneMatch="*")

    # when the event is delivered again to a live instance
    engine = GatedEngine(real_engine)
    engine.go.set()
    response = instance(moto_stack, engine).handle(event, lambda_context())

    # then it takes the stale claim over and reads the document
    assert [o["status"] for o in response["outcomes"]] == ["succeeded"]
    assert engine.runs == 1
    assert moto_stack.result("orphan-claim.png")["source"]["etag"] == etag


@pytest.mark.parametrize("sequencers", [("0A", "0B"), (None, None)], ids=["by-sequencer", "by-source-check"])
def test_a_slow_run_of_an_overwritten_version_does_not_replace_the_newer_result(moto_stack, real_engine, sequencers):
    # given an upload whose run is slow (held inside the engine after reading the bytes)
    old_seq, new_seq = sequencers
    old_etag = moto_stack.upload("overwritten.png", png(["First version 1111"]))
    slow_engine = GatedEngine(real_engine)
    slow = instance(moto_stack, slow_engine)
    slow_thread, slow_answer = in_thread(slow, event_for(moto_stack, "overwritten.png", old_etag, old_seq))
    assert slow_engine.started.wait(60)

    # when the object is overwritten and the new version's run finishes first
    new_etag = moto_stack.upload("overwritten.png", png(["Second version 2222"]))
    fast_engine = GatedEngine(real_engine)
    fast_engine.go.set()
    fast = instance(moto_stack, fast_engine)
    assert (
        outcome(
            {"response": fast.handle(event_for(moto_stack, "overwritten.png", new_etag, new_seq), lambda_context())}
        )["status"]
        == "succeeded"
    )
    slow_engine.go.set()
    slow_thread.join(120)

    # then the old run ends as superseded and the result still describes the latest version
    assert outcome(slow_answer)["reason"] == "superseded"
    result = moto_stack.result("overwritten.png")
    assert result["source"]["etag"] == new_etag and "2222" in result["text"]


def test_an_old_event_arriving_after_the_overwrite_is_skipped_without_reading(moto_stack, real_engine):
    # given an object uploaded twice, the second version already read
    old_etag = moto_stack.upload("late.png", png(["Old 1111"]))
    new_etag = moto_stack.upload("late.png", png(["New 2222"]))
    engine = GatedEngine(real_engine)
    engine.go.set()
    app = instance(moto_stack, engine)
    app.handle(event_for(moto_stack, "late.png", new_etag, "0B"), lambda_context())

    # when the first version's event arrives late
    response = app.handle(event_for(moto_stack, "late.png", old_etag, "0A"), lambda_context())

    # then it is skipped as superseded without running the engine again
    assert [(o["status"], o["reason"]) for o in response["outcomes"]] == [("skipped", "superseded")]
    assert engine.runs == 1
    assert moto_stack.result("late.png")["source"]["etag"] == new_etag


@pytest.mark.parametrize(
    "operation, status, code",
    [("GetObject", 403, "AccessDenied"), ("GetObject", 400, "InvalidRequest"), ("PutObject", 400, "KeyTooLongError")],
)
def test_an_s3_refusal_is_permanent_for_its_object(moto_stack, operation, status, code):
    # given storage that refuses one request about one object with a 4xx no retry changes
    etag = moto_stack.upload("refused.png", png(LINES))
    refuse(moto_stack.app_s3, operation, "refused.png", status, code)

    # when its event is handled
    response = moto_stack.app.handle(s3_event(moto_stack, "refused.png", etag), lambda_context())

    # then it is not handed back for retries: the event is dead-lettered, named
    assert [(o["status"], o["error_type"]) for o in response["outcomes"]] == [("failed", "StorageRejectedError")]
    [letter] = moto_stack.dead_letters()
    assert letter["error_type"] == "StorageRejectedError" and code in letter["error_message"]


@pytest.mark.parametrize(
    "status, code", [(429, "TooManyRequests"), (400, "RequestTimeout"), (403, "RequestTimeTooSkewed")]
)
def test_a_4xx_that_means_not_now_is_retried(moto_stack, status, code):
    from bucket_ocr.errors import StorageUnavailableError

    etag = moto_stack.upload("later.png", png(LINES))
    refuse(moto_stack.app_s3, "GetObject", "later.png", status, code)
    with pytest.raises(StorageUnavailableError, match=code):
        moto_stack.app.handle(s3_event(moto_stack, "later.png", etag), lambda_context())
    assert moto_stack.dead_letters() == []


def test_a_denied_head_of_the_result_reads_as_no_result_and_warns_once(moto_stack, caplog):
    # given a role that may not list the results bucket, so HEAD of a missing result is 403
    tags = {key: moto_stack.upload(key, png(LINES)) for key in ("denied-1.png", "denied-2.png")}
    app = moto_stack.app
    refuse(moto_stack.app_s3, "HeadObject", "/ocr/", 403, "403")

    # when two new documents arrive
    outcomes = [
        app.handle(s3_event(moto_stack, key, etag), lambda_context())["outcomes"][0] for key, etag in tags.items()
    ]

    # then both are read (not retried as unavailable storage), with one warning for the instance
    assert [o["status"] for o in outcomes] == ["succeeded", "succeeded"]
    assert [r.getMessage() for r in caplog.records].count(DENIED_WARNING) == 1


def test_a_result_write_that_fails_for_a_moment_is_tried_again_without_reading_again(moto_stack, real_engine):
    # given storage that answers 503 to the first six writes of the result: more than the
    # client's own four attempts, so one whole write fails

    etag = moto_stack.upload("brief-outage.png", png(LINES))
    engine = GatedEngine(real_engine)
    engine.go.set()
    app, s3 = instance_and_client(moto_stack, engine)
    refusals = []

    def unavailable(request, **_):
        if "brief-outage.png.json" in request.url and len(refusals) < 6:
            refusals.append(request.url)
            body = b"<Error><Code>ServiceUnavailable</Code><Message>back in a moment</Message></Error>"
            return AWSResponse(request.url, 503, {}, RawBody(body))
        return None

    s3.meta.events.register("before-send.s3.PutObject", unavailable)

    # when its event is handled
    response = app.handle(event_for(moto_stack, "brief-outage.png", etag), lambda_context())

    # then the result is written once storage answers, and the document was read once
    assert [o["status"] for o in response["outcomes"]] == ["succeeded"]
    assert len(refusals) == 6 and engine.runs == 1
    assert moto_stack.result("brief-outage.png")["source"]["etag"] == etag
