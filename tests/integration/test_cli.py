"""The commands a developer types: `demo` (the README's main job), `up` with `drop`,
`results` and `dlq` against it, and `invoke` with an event file."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from bucket_ocr_local.processes import wait_for
from bucket_ocr_local.python_path import child_environment
from bucket_ocr_local.samples import demo_samples
from tests.integration.conftest import CORRUPT_PNG, ROOT, png_of, require_binary
from tests.support.local_cli import run_local_cli
from tests.support.rabbitmq import require_rabbitmq_server

pytestmark = pytest.mark.integration


def test_the_demo_runs_and_prints_its_results(tmp_path, models_dir):
    # when the README's main job runs on the embedded default
    done = run_local_cli(tmp_path, "--models-dir", str(models_dir), "demo", "--timeout", "240", timeout=420)

    # then it succeeds and prints one row per sample, with pages, lines, seconds and status
    assert done.returncode == 0, done.stdout + done.stderr
    assert "file" in done.stdout and "pages  lines  seconds  status" in done.stdout
    rows = {line.split("  ")[0]: line for line in done.stdout.splitlines() if line.startswith("demo/")}
    assert "succeeded" in rows["demo/receipt.png"]
    assert re.fullmatch(r"demo/two-page letter\.pdf\s+2\s+\d+\s+[\d.]+\s+succeeded", rows["demo/two-page letter.pdf"])
    assert "failed (CorruptDocumentError" in rows["demo/corrupt scan.png"]
    assert "result JSON: s3://ocr-results/ocr/ocr-input/demo/" in done.stdout
    # and the result JSON outlives the in-memory bucket, with the words that were drawn
    for sample in demo_samples():
        copy = tmp_path / "demo" / "results" / "ocr" / "ocr-input" / "demo" / f"{sample.name}.json"
        text = json.loads(copy.read_text())["text"]
        assert all(word in text for word in sample.expected_words)


@pytest.mark.parametrize("store", ["moto", "minio"])
def test_up_then_drop_results_and_dlq_against_it(tmp_path, models_dir, store):
    # given `up` running the embedded stack, or MinIO with RabbitMQ and bucket-ocr-worker
    if store == "minio":
        require_binary("minio")
        require_rabbitmq_server()
    log = tmp_path / "up.log"
    with open(log, "w") as out:
        up = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bucket_ocr_local",
                "--work-dir",
                str(tmp_path),
                "--models-dir",
                str(models_dir),
                "up",
                "--store",
                store,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_environment(),
            cwd=ROOT,
            start_new_session=True,
        )
    try:
        wait_for(
            lambda: "Ctrl-C stops the stack" in log.read_text(),
            timeout=120,
            what="`up` to be ready",
            abort=lambda: up.poll() is not None and log.read_text(),
        )
        printed = log.read_text()
        assert "S3 endpoint   http://127.0.0.1:" in printed and "secret key" in printed
        if store == "minio":
            assert "broker        amqp://" in printed and "?queue=ocr-dead-letters" in printed

        # when files are dropped into it, one of them corrupt
        (tmp_path / "note.png").write_bytes(png_of("NOTE 8080"))
        (tmp_path / "bad scan.png").write_bytes(CORRUPT_PNG)
        dropped = run_local_cli(
            tmp_path, "drop", str(tmp_path / "note.png"), str(tmp_path / "bad scan.png"), "--prefix", "dropped/"
        )

        # then `drop` waits for both and reports each (exit 1: not everything succeeded)
        assert dropped.returncode == 1, dropped.stdout + dropped.stderr
        assert "no running stack" not in dropped.stderr
        assert "dropped/note.png" in dropped.stdout and "succeeded" in dropped.stdout
        assert "failed (CorruptDocumentError" in dropped.stdout

        # and `results` lists and shows them
        listing = run_local_cli(tmp_path, "results")
        assert "ocr/ocr-input/dropped/note.png.json" in listing.stdout
        shown = run_local_cli(tmp_path, "results", "dropped/note.png")
        assert "8080" in json.loads(shown.stdout)["text"]

        # and `dlq` shows the corrupt one and can send it back
        letters = run_local_cli(tmp_path, "dlq")
        assert "dropped/bad scan.png" in letters.stdout and "CorruptDocumentError" in letters.stdout
        redriven = run_local_cli(tmp_path, "dlq", "--redrive")
        assert "sent 1 of 1 back to the function" in redriven.stderr
    finally:
        # when `up` gets Ctrl-C, it stops everything and exits cleanly
        os.killpg(up.pid, signal.SIGINT)
        code = up.wait(120)
    assert code == 0, log.read_text()
    assert not (tmp_path / "stack" / "stack.json").exists()


def test_invoke_runs_one_event_file_through_the_function(tmp_path, models_dir):
    # given no running stack, an event file for an object that does not exist
    event = ROOT / "tests" / "events" / "direct.json"

    # when it is invoked
    done = run_local_cli(tmp_path, "--models-dir", str(models_dir), "invoke", "--event", str(event))

    # then the function's response is printed: a permanent failure, handled
    assert done.returncode == 0, done.stderr
    [outcome] = json.loads(done.stdout)["outcomes"]
    assert outcome["status"] == "failed" and outcome["error_type"] == "ObjectNotFoundError"


def test_invoke_through_the_emulator_prints_the_error_payload(tmp_path, models_dir):
    require_binary("aws-lambda-rie")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"neither": "bucket nor records"}))

    done = run_local_cli(tmp_path, "--models-dir", str(models_dir), "invoke", "--event", str(bad), "--runtime", "rie")

    assert done.returncode == 1, done.stderr
    payload = json.loads(done.stdout)
    assert payload["errorType"] == "UnrecognizedEventError"
