"""Backfill against the real servers: MinIO with RabbitMQ and `bucket-ocr-worker`
processes (the self-hosted path), and the moto server stack's SQS events queue.

200 objects sit in a bucket that sends no events (as objects written before the function
was wired up do), half of them with results already. The backfill sends the other half
through the stack's own queue and the workers read them. To keep the wall time near a
minute the workers run the real engine on small pages: most to-do pages are blank (the
detector finds nothing, a few milliseconds each) and every tenth carries a line of text
that must come back in its result.
"""

from __future__ import annotations

import io
import json
import subprocess

import pytest
from PIL import Image

from bucket_ocr.backfill import cli as backfill_cli
from bucket_ocr_local import backfill as stack_backfill
from bucket_ocr_local import function_logs
from bucket_ocr_local.processes import wait_for
from tests.integration.conftest import png_of, read_result, unique_name, wait_for_result
from tests.support.local_cli import run_local_cli

pytestmark = pytest.mark.integration

COUNT = 200
DONE_MARKER = {"backfill-test": "written before the backfill"}


def blank_png(n: int) -> bytes:
    buffer = io.BytesIO()
    # Sizes differ so that every object has its own etag.
    Image.new("RGB", (120 + n, 60), "white").save(buffer, "PNG")
    return buffer.getvalue()


def archive(spec, bucket: str) -> tuple[dict[str, str], set[str]]:
    """200 objects without events; results for the even ones as the function writes them."""
    s3 = spec.client("s3")
    s3.create_bucket(Bucket=bucket)
    etags, todo = {}, set()
    for n in range(COUNT):
        key = f"old/{n:03d}.png"
        body = png_of(f"BACKFILL {n:03d}") if n % 20 == 1 else blank_png(n)
        etags[key] = s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"].strip('"')
        if n % 2 == 0:
            s3.put_object(
                Bucket=spec.results_bucket,
                Key=spec.result_key(key, bucket),
                Body=json.dumps(DONE_MARKER).encode(),
                Metadata={
                    "status": "succeeded",
                    "source-etag": etags[key],
                    "source-version-id": "",
                    "source-sequencer": "",
                },
            )
        else:
            todo.add(key)
    return etags, todo


def test_backfill_on_minio_sends_the_undone_half_through_the_broker_to_the_workers(minio_stack):
    spec = minio_stack.spec
    bucket = unique_name("archive")
    etags, todo = archive(spec, bucket)

    # When the stack's backfill runs dry
    summary = stack_backfill.run(spec, bucket=bucket, prefix="old/", dry_run=True)
    # Then it counts the half already done and the half to do
    assert (summary.listed, summary.already_done, summary.to_enqueue, summary.enqueued) == (200, 100, 100, 0)

    # When it runs for real
    summary = stack_backfill.run(spec, bucket=bucket, prefix="old/")
    assert (summary.enqueued, summary.failed) == (100, 0)

    # Then every undone object gets its result, made from the version listed
    for key in sorted(todo):
        result = wait_for_result(spec, bucket, key, timeout=120)
        assert result["status"] == "succeeded", result
        assert result["source"]["etag"] == etags[key]
        n = int(key[4:7])
        if n % 20 == 1:
            assert f"{n:03d}" in result["text"]
    # and the results already there were left alone, never delivered to a worker
    for key in sorted(set(etags) - todo):
        assert read_result(spec, bucket, key) == DONE_MARKER
    read = {
        r["key"]
        for r in function_logs.records(spec.work_dir)
        if r.get("bucket") == bucket and r.get("message") == function_logs.RECOGNISED
    }
    assert read <= todo
    # and a second backfill finds nothing left to do
    again = stack_backfill.run(spec, bucket=bucket, prefix="old/", dry_run=True)
    assert (again.already_done, again.to_enqueue) == (200, 0)


def test_the_image_command_sends_to_a_rabbitmq_queue_with_confirms(minio_stack, monkeypatch, capsys):
    # Given a few objects without events on the self-hosted stack
    spec = minio_stack.spec
    bucket = unique_name("legacy")
    s3 = spec.client("s3")
    s3.create_bucket(Bucket=bucket)
    words = {"scan-a.png": "INVOICE", "scan-b.png": "RECEIPT", "scan-c.png": "CONTRACT"}
    for key, word in words.items():
        s3.put_object(Bucket=bucket, Key=key, Body=png_of(f"LEGACY {word}"))
    # When `bucket-ocr-backfill` (what the image ships) sends them to the workers' queue
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", spec.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", spec.secret_key)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)
    code = backfill_cli.main(
        [
            "--bucket",
            bucket,
            "--results-bucket",
            spec.results_bucket,
            "--results-prefix",
            spec.results_prefix,
            "--endpoint-url",
            spec.s3_endpoint,
            "--to",
            f"{spec.broker_url}?queue={spec.work_queue}",
            "--no-progress",
        ]
    )
    # Then all three are enqueued and read
    assert code == 0, capsys.readouterr()
    assert "enqueued       3" in capsys.readouterr().out
    for key, word in words.items():
        assert word in wait_for_result(spec, bucket, key)["text"]


def test_the_local_command_sends_to_the_moto_stacks_events_queue(start_stack, tmp_path):
    # Given a running moto stack (no workers: the queue is left to be counted)
    stack = start_stack(store="moto", workers=0, work_dir=tmp_path / "stack")
    spec = stack.spec
    bucket = unique_name("archive")
    s3 = spec.client("s3")
    s3.create_bucket(Bucket=bucket)
    for n in range(12):
        s3.put_object(Bucket=bucket, Key=f"old/{n:02d}.png", Body=blank_png(n))

    def local(*args: str) -> subprocess.CompletedProcess:
        return run_local_cli(tmp_path, "backfill", "--bucket", bucket, "--no-progress", *args, timeout=120)

    # When `bucket-ocr-local backfill` runs dry, then for real
    dry = local("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would enqueue  12" in dry.stdout
    done = local()
    assert done.returncode == 0, done.stderr
    assert "enqueued       12" in done.stdout
    # Then the stack's events queue holds twelve S3 notifications for those objects
    sqs = spec.client("sqs")
    keys = set()

    def received():
        for message in sqs.receive_message(
            QueueUrl=spec.events_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60
        ).get("Messages", []):
            body = json.loads(message["Body"])
            if "Records" in body:  # not the s3:TestEvent S3 sent when the stack wired its input bucket
                keys.add(body["Records"][0]["s3"]["object"]["key"])
        return len(keys) == 12 or None

    wait_for(received, timeout=30, what="twelve messages on the events queue")
    assert keys == {f"old/{n:02d}.png" for n in range(12)}
