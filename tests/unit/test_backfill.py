"""The backfill's parts on their own: the plan on moto S3, the targets with fake clients,
the command's exit code and summary."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from bucket_ocr.backfill import backfill, plan
from bucket_ocr.backfill import cli as backfill_cli
from bucket_ocr.backfill.plan import DONE, FAILED_BEFORE, FOLDER, NO_RESULT, OWN_OUTPUT, STALE_RESULT, ListedObject
from bucket_ocr.backfill.targets import (
    AmqpTarget,
    BackfillTargetError,
    LambdaTarget,
    SqsTarget,
    Target,
    target_for,
)
from bucket_ocr.errors import ConfigurationError
from bucket_ocr.events.routing import records_from_payload
from bucket_ocr.results.keys import result_key_for


def write_result(
    s3,
    bucket: str,
    source_bucket: str,
    key: str,
    etag: str,
    *,
    version_id: str = "",
    sequencer: str = "",
    status: str = "succeeded",
):
    """A result as the function leaves it: its source's identity in the metadata."""
    s3.put_object(
        Bucket=bucket,
        Key=result_key_for("ocr/", source_bucket, key),
        Body=b"{}",
        Metadata={
            "status": status,
            "source-etag": etag,
            "source-version-id": version_id,
            "source-sequencer": sequencer,
        },
    )


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="docs")
        client.create_bucket(Bucket="results")
        yield client


def put(s3, key: str, body: bytes = b"document", bucket: str = "docs") -> str:
    return s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"].strip('"')


def reasons(s3, bucket="docs", prefix="", results="results"):
    return {listed.key: reason for listed, reason in plan(s3, bucket, prefix, results, "ocr/")}


def test_each_object_is_planned_by_its_result(s3):
    # Given one document never read, one read, one read before it was overwritten, a folder marker
    put(s3, "new.pdf")
    write_result(s3, "results", "docs", "done.pdf", put(s3, "done.pdf"))
    write_result(s3, "results", "docs", "stale.pdf", "0" * 32, sequencer="00FF")
    put(s3, "stale.pdf")
    put(s3, "folder/", b"")
    write_result(s3, "results", "docs", "corrupt.pdf", put(s3, "corrupt.pdf"), status="failed")
    # When the backfill plans the bucket
    planned = {listed.key: (listed, reason) for listed, reason in plan(s3, "docs", "", "results", "ocr/")}
    # Then only the unread and the out-of-date are to do
    assert {key: reason for key, (_, reason) in planned.items()} == {
        "new.pdf": NO_RESULT,
        "done.pdf": DONE,
        "stale.pdf": STALE_RESULT,
        "folder/": FOLDER,
        "corrupt.pdf": FAILED_BEFORE,
    }
    # and the out-of-date one's event orders just after the result it replaces
    assert planned["stale.pdf"][0].sequencer == "0100"
    assert planned["new.pdf"][0].sequencer is None


def test_only_the_prefix_is_listed(s3):
    put(s3, "a/1.png")
    put(s3, "b/2.png")
    assert reasons(s3, prefix="a/") == {"a/1.png": NO_RESULT}


def test_results_in_the_same_bucket_are_never_planned(s3):
    # Given a bucket that holds documents and, under the results prefix, their results
    etag = put(s3, "scan.png", bucket="docs")
    write_result(s3, "docs", "docs", "scan.png", etag)
    # When it is planned as both source and results bucket
    # Then its results are own output, and the document is done
    assert reasons(s3, results="docs") == {"scan.png": DONE, result_key_for("ocr/", "docs", "scan.png"): OWN_OUTPUT}


def test_a_versioned_bucket_is_planned_by_its_current_version(s3):
    # Given a versioned bucket whose document was read, then overwritten
    s3.put_bucket_versioning(Bucket="docs", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="docs", Key="v.png", Body=b"one")
    write_result(s3, "results", "docs", "v.png", first["ETag"].strip('"'))
    assert reasons(s3) == {"v.png": DONE}
    # When a new version replaces it
    put(s3, "v.png", b"two")
    # Then the current version is to do, once
    assert reasons(s3) == {"v.png": STALE_RESULT}


def test_the_event_sent_is_an_s3_put_of_the_listed_version(s3):
    etag = put(s3, "dir/a b.png")
    ((listed, _),) = list(plan(s3, "docs", "", "results", "ocr/"))
    (record,) = records_from_payload(listed.notification())
    assert (record.bucket, record.key, record.etag, record.size, record.event_name) == (
        "docs",
        "dir/a b.png",
        etag,
        len(b"document"),
        "ObjectCreated:Put",
    )


class RecordingTarget(Target):
    def __init__(self, fail_keys=()):
        super().__init__()
        self.bodies = []
        self.fail_keys = set(fail_keys)
        self.closed = False

    def send(self, body):
        from bucket_ocr.backfill.targets import SendFailure

        key = body["Records"][0]["s3"]["object"]["key"]
        if key in self.fail_keys:
            self.failures.append(SendFailure(body, "refused"))
        else:
            self.bodies.append(body)
            self.sent += 1

    def close(self):
        self.closed = True


def listed(key):
    return ListedObject("docs", key, "e" * 32, 1)


def test_a_dry_run_counts_and_sends_nothing():
    target = RecordingTarget()
    summary = backfill(
        [(listed("a"), NO_RESULT), (listed("b"), DONE), (listed("c"), OWN_OUTPUT), (listed("d"), FAILED_BEFORE)],
        target,
        dry_run=True,
    )
    assert (summary.listed, summary.already_done, summary.skipped, summary.to_enqueue, summary.enqueued) == (
        4,
        2,
        1,
        1,
        0,
    )
    assert target.bodies == [] and "would enqueue  1" in summary.lines()


def test_a_run_sends_what_is_to_do_and_counts_failures():
    target = RecordingTarget(fail_keys={"b"})
    summary = backfill([(listed("a"), NO_RESULT), (listed("b"), STALE_RESULT), (listed("c"), DONE)], target)
    assert (summary.to_enqueue, summary.enqueued, summary.failed) == (2, 1, 1)
    assert target.closed


class FakeSqs:
    def __init__(self, failing_ids=()):
        self.calls = []
        self.failing_ids = set(failing_ids)

    def send_message_batch(self, QueueUrl, Entries):
        self.calls.append(Entries)
        failed = [
            {"Id": e["Id"], "Code": "InternalError", "Message": "try again", "SenderFault": False}
            for e in Entries
            if e["Id"] in self.failing_ids
        ]
        return {"Successful": [{"Id": e["Id"]} for e in Entries if e["Id"] not in self.failing_ids], "Failed": failed}


def test_sqs_sends_batches_of_ten_and_keeps_the_entries_that_failed():
    sqs = FakeSqs(failing_ids={"3"})
    with SqsTarget(sqs, "https://sqs.us-east-1.amazonaws.com/1/q") as target:
        for n in range(23):
            target.send(listed(f"k{n}").notification())
    assert [len(call) for call in sqs.calls] == [10, 10, 3]
    # the fourth entry of each full batch was refused; the last batch has only three
    assert target.sent == 21 and len(target.failures) == 2
    assert json.loads(sqs.calls[0][0]["MessageBody"])["Records"][0]["s3"]["object"]["key"] == "k0"


class FakeLambda:
    def __init__(self, status=202):
        self.status = status
        self.calls = []

    def invoke(self, **kwargs):
        self.calls.append(kwargs)
        return {"StatusCode": self.status}


def test_lambda_invokes_asynchronously_one_event_per_object():
    client = FakeLambda()
    target = LambdaTarget(client, "bucket-ocr")
    target.send(listed("a").notification())
    assert target.sent == 1
    (call,) = client.calls
    assert call["InvocationType"] == "Event" and call["FunctionName"] == "bucket-ocr"
    assert records_from_payload(json.loads(call["Payload"]))[0].key == "a"
    refused = LambdaTarget(FakeLambda(status=500), "bucket-ocr")
    refused.send(listed("a").notification())
    assert refused.sent == 0 and len(refused.failures) == 1


@pytest.mark.parametrize(
    "to, kind",
    [
        ("sqs://sqs.eu-west-1.amazonaws.com/123456789012/ocr-events", SqsTarget),
        ("sqs://https://sqs.eu-west-1.amazonaws.com/123456789012/ocr-events", SqsTarget),
        ("https://sqs.eu-west-1.amazonaws.com/123456789012/ocr-events", SqsTarget),
        ("sqs://http://127.0.0.1:5000/123456789012/ocr-events", SqsTarget),
        ("lambda:bucket-ocr", LambdaTarget),
        ("lambda:arn:aws:lambda:eu-west-1:123456789012:function:bucket-ocr", LambdaTarget),
        ("amqp://guest:guest@rabbitmq:5672/%2F?queue=ocr-work", AmqpTarget),
    ],
)
def test_targets_are_named_by_url(to, kind):
    assert isinstance(target_for(to, session=boto3.Session(region_name="us-east-1")), kind)


@pytest.mark.parametrize("to", ["s3://bucket", "lambda:", "sqs://"])
def test_a_target_that_names_nothing_usable_is_refused(to):
    with pytest.raises(BackfillTargetError):
        target_for(to, session=boto3.Session(region_name="us-east-1"))


def test_an_amqp_target_must_name_its_queue():
    with pytest.raises(ConfigurationError, match="must name its queue"):
        target_for("amqp://rabbitmq:5672/%2F", session=boto3.Session(region_name="us-east-1"))


class RefusingSqs:
    """A client whose first batch the service refuses as a whole (throttled, say)."""

    def __init__(self):
        self.calls = 0

    def send_message_batch(self, QueueUrl, Entries):
        self.calls += 1
        if self.calls == 1:
            raise ClientError({"Error": {"Code": "RequestThrottled", "Message": "slow down"}}, "SendMessageBatch")
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def test_a_batch_the_service_refuses_is_counted_and_the_next_one_is_sent():
    # given an SQS client that throttles the first of two batches
    target = SqsTarget(RefusingSqs(), "https://sqs.us-east-1.amazonaws.com/1/q")
    # when twelve events are sent
    for n in range(12):
        target.send(listed(f"k{n}").notification())
    target.close()
    # then the ten of the first batch are failures naming the error, and the last two went
    assert target.sent == 2 and len(target.failures) == 10
    assert target.failures[0].error.startswith("ClientError: ") and "RequestThrottled" in target.failures[0].error


def test_a_bug_behind_a_target_is_raised_not_counted_as_a_refusal():
    # given clients that fail with a programming error, not a service answer
    class BuggySqs:
        def send_message_batch(self, QueueUrl, Entries):
            raise TypeError("a bug")

    class BuggyLambda:
        def invoke(self, **kwargs):
            raise TypeError("a bug")

    # when an event is sent, then the bug surfaces
    with pytest.raises(TypeError), SqsTarget(BuggySqs(), "https://sqs.us-east-1.amazonaws.com/1/q") as target:
        target.send(listed("a").notification())
    with pytest.raises(TypeError):
        LambdaTarget(BuggyLambda(), "bucket-ocr").send(listed("a").notification())


def test_a_lambda_invoke_the_service_refuses_is_counted():
    class RefusingLambda:
        def invoke(self, **kwargs):
            raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "rate"}}, "Invoke")

    target = LambdaTarget(RefusingLambda(), "bucket-ocr")
    target.send(listed("a").notification())
    assert target.sent == 0 and [f.error.split(":")[0] for f in target.failures] == ["ClientError"]


def test_the_command_exits_non_zero_when_an_enqueue_failed(s3, monkeypatch, capsys):
    # Given two documents to do and a target that refuses one
    put(s3, "a.png")
    put(s3, "b c.png")
    target = RecordingTarget(fail_keys={"b+c.png"})
    monkeypatch.setattr(backfill_cli, "target_for", lambda to, session=None: target)
    # When the command runs
    code = backfill_cli.main(
        ["--bucket", "docs", "--results-bucket", "results", "--to", "sqs://x/1/q", "--no-progress"]
    )
    # Then it says what happened and fails
    out, err = capsys.readouterr()
    assert code == 1
    assert "enqueued       1" in out and "failed         1" in out
    assert "not enqueued: s3://docs/b c.png: refused" in err


def test_the_command_reads_the_results_bucket_from_the_functions_variable(s3, monkeypatch, capsys):
    put(s3, "a.png")
    monkeypatch.setenv("OCR_RESULTS_BUCKET", "results")
    monkeypatch.setenv("OCR_RESULTS_PREFIX", "/ocr")
    assert backfill_cli.main(["--bucket", "docs", "--dry-run", "--json", "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["listed"], summary["to_enqueue"], summary["dry_run"]) == (1, 1, True)


def test_the_command_needs_a_target_unless_dry_run(capsys):
    with pytest.raises(SystemExit) as exited:
        backfill_cli.main(["--bucket", "docs", "--results-bucket", "results"])
    assert exited.value.code == 2
