"""The image's contract, checked without Docker.

container/Dockerfile is replayed into plain directories: each stage gets a directory
standing for its root, COPY copies from the repository (or from another stage's
directory), RUN runs with the stage's ENV and with container paths moved under that root.
The runtime stage's ENTRYPOINT + CMD then run under the Lambda Runtime Interface Emulator,
without capabilities (so, as root or not, the models and HOME are really read-only),
against a moto server, and a real S3 event must leave a real result in the results bucket.

Nothing about the image is written here twice: the lock files, the models command, the
paths and the environment all come from the Dockerfile.

The dependency and model stages take minutes, so their result is cached under .work/,
keyed by the Dockerfile and everything those stages copy in; the code stage and the
runtime install are replayed on every run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from io import BytesIO
from pathlib import Path

import pytest

from bucket_ocr_local.processes import LOOPBACK, ManagedProcess, free_port, pid_alive, port_open
from bucket_ocr_local.runtimes.emulator import INVOKE_PATH
from bucket_ocr_local.stores.moto_store import MotoServer
from tests.integration.conftest import require_binary
from tests.unit.test_dockerfile import DOCKERFILE, ROOT, Instruction, Stage, copy_sources, parse, run_commands

pytestmark = pytest.mark.integration

WORK = ROOT / ".work" / "container-contract"
WORDS = ["Invoice", "Contract", "Harbour"]
SKIPPED_PROGRAMS = {"apt-get", "rm"}  # system packages: the host provides libgomp


class Replay:
    """Runs Dockerfile stages into directories, one root per stage."""

    def __init__(self, stages: list[Stage], roots: dict[str, Path]):
        self.stages = {s.name: s for s in stages}
        self.roots = roots
        # First path components the Dockerfile puts things in; other absolute paths
        # (/bin/sh, /tmp) mean the host's own.
        tops: set[str] = set()
        for stage in stages:
            for instruction in stage.instructions:
                if instruction.keyword == "COPY":
                    tops.add(copy_sources(instruction)[1].strip("/").split("/")[0])
                mount = dict(p.split("=", 1) for p in instruction.flags.get("mount", "").split(",") if "=" in p)
                if "target" in mount:
                    tops.add(mount["target"].strip("/").split("/")[0])
            for value in stage.env().values():
                if value.startswith("/") and not value.startswith("/tmp"):
                    tops.add(value.strip("/").split("/")[0])
        self.tops = tops

    def host(self, root: Path, path: str) -> str:
        if path.startswith("/") and path.strip("/").split("/")[0] in self.tops:
            return str(root) + path
        return path

    def translate(self, root: Path, word: str) -> str:
        if "=" in word and not word.startswith("/"):
            name, value = word.split("=", 1)
            return f"{name}=" + ":".join(self.host(root, part) for part in value.split(":"))
        return self.host(root, word)

    def environment(self, stage: Stage, root: Path) -> dict[str, str]:
        env = dict(os.environ)
        for name, value in stage.env().items():
            value = value.replace("$PATH", os.environ.get("PATH", ""))
            env[name] = ":".join(self.host(root, part) for part in value.split(":"))
        return env

    def copy(self, instruction: Instruction, root: Path) -> None:
        sources, destination = copy_sources(instruction)
        stage_from = instruction.flags.get("from")
        for source in sources:
            src = Path(str(self.roots[stage_from]) + source) if stage_from else ROOT / source
            dest = Path(str(root) + destination)
            if src.is_dir():
                # Between stages, hard links: a venv is gigabytes, and nothing after
                # rewrites a file copied this way (pip only adds the project's).
                link = os.link if stage_from else shutil.copy2
                shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True, copy_function=link)
            else:
                target = dest / src.name if destination.endswith("/") else dest
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target)

    def run(self, instruction: Instruction, stage: Stage, root: Path) -> None:
        mount = dict(p.split("=", 1) for p in instruction.flags.get("mount", "").split(",") if "=" in p)
        if mount.get("type") == "bind":
            target = Path(str(root) + mount["target"])
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.symlink_to(Path(str(self.roots[mount["from"]]) + mount["source"]))
        env = self.environment(stage, root)
        for words in run_commands(instruction):
            assignments = {}
            while words and "=" in words[0] and not words[0].startswith(("-", "/")):
                name, value = self.translate(root, words.pop(0)).split("=", 1)
                assignments[name] = value
            if not words or words[0] in SKIPPED_PROGRAMS:
                continue
            command = [self.translate(root, w) for w in words]
            program = Path(command[0])
            if command[0] == "python":  # the base image's interpreter
                command[0] = getattr(sys, "_base_executable", sys.executable)
            elif program.is_file() and program.read_bytes()[:2] == b"#!" and (program.parent / "python").exists():
                # A venv script's shebang names the venv it was installed in, which for a
                # stage copied from another is the other one: run it with its own.
                command.insert(0, str(program.parent / "python"))
            subprocess.run(command, env={**env, **assignments}, check=True, cwd=root)

    def stage(self, name: str) -> None:
        stage, root = self.stages[name], self.roots[name]
        root.mkdir(parents=True, exist_ok=True)
        for instruction in stage.instructions:
            if instruction.keyword == "COPY":
                self.copy(instruction, root)
            elif instruction.keyword == "RUN":
                self.run(instruction, stage, root)


def _remove(path: Path) -> None:
    """rmtree that also gets through the read-only model directories."""
    if path.exists():
        subprocess.run(["chmod", "-R", "u+w", str(path)], check=False)
        shutil.rmtree(path, ignore_errors=True)


def _prune(keep: str) -> None:
    """Drop the stages cached for other Dockerfiles and the roots of runs that died.

    Each key holds gigabytes (two virtualenvs and the models), and every change to the
    locks or the Dockerfile makes a new one: kept, they fill the disk in a day of work.
    """
    if not WORK.is_dir():
        return
    for entry in WORK.iterdir():
        if entry.name not in (keep, "runs"):
            _remove(entry)
    for run in (WORK / "runs").glob("*"):
        if not run.name.isdigit() or not pid_alive(int(run.name)):
            _remove(run)


def _cache_key(stages: list[Stage], names: list[str]) -> str:
    digest = hashlib.sha256(DOCKERFILE.read_bytes())
    for stage in stages:
        if stage.name not in names:
            continue
        for instruction in stage.all("COPY"):
            if "from" in instruction.flags:
                continue
            for source in copy_sources(instruction)[0]:
                path = ROOT / source
                files = (
                    sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
                    if path.is_dir()
                    else [path]
                )
                for file in files:
                    digest.update(str(file.relative_to(ROOT)).encode())
                    digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def image_root(tmp_path_factory) -> tuple[Path, Stage]:
    """The runtime stage's root directory, built by replaying the Dockerfile."""
    stages = parse()
    runtime = stages[-1]
    cached = [s.name for s in stages[:-1] if s.name != "code"]
    key = _cache_key(stages, cached)
    cache = WORK / key
    _prune(keep=key)
    roots = {name: cache / name for name in cached}
    run_dir = WORK / "runs" / str(os.getpid())
    _remove(run_dir)
    roots["code"] = run_dir / "code"
    roots[runtime.name] = run_dir / "runtime"
    replay = Replay(stages, roots)
    for name in cached:
        done = cache / f"{name}.complete"
        if done.exists():
            continue
        _remove(roots[name])
        base = {s.name: s.base for s in stages}[name]
        if base in roots:  # FROM an earlier stage: start from a copy of its root
            shutil.copytree(roots[base], roots[name], symlinks=True)
        replay.stage(name)
        done.write_text(key)
    # The code stage is FROM deps too; it only reads the venv, so it links to it.
    roots["code"].mkdir(parents=True)
    for entry in roots["deps"].iterdir():
        (roots["code"] / entry.name).symlink_to(entry)
    replay.stage("code")
    replay.stage(runtime.name)
    yield roots[runtime.name], runtime, replay
    _remove(run_dir)


@pytest.fixture
def moto(tmp_path):
    server = MotoServer(tmp_path).start()
    try:
        yield server.url
    finally:
        server.stop()


def _png_with(words: list[str]) -> bytes:
    from tests.support.pages import render_text_page

    buffer = BytesIO()
    render_text_page([" ".join(words)], width=4.5, dpi=150, font_size=14, height=1.6).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_image_ocrs_an_uploaded_document_under_the_runtime_emulator(image_root, moto, tmp_path):
    import boto3

    from bucket_ocr.results.keys import result_key_for
    from tests.support.events import load_event, retarget

    rie = require_binary("aws-lambda-rie")
    root, runtime, replay = image_root
    image_env = replay.environment(runtime, root)
    models_dir = Path(image_env["OCR_MODELS_DIR"])
    # Given the models the image baked, read-only, and a HOME nobody may write to
    assert any(models_dir.iterdir()), f"no models in {models_dir}"
    home = tmp_path / "home"
    home.mkdir(mode=0o555)
    # and buckets and a dead-letter queue on a moto server
    clients = dict(
        endpoint_url=moto, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    s3, sqs = boto3.client("s3", **clients), boto3.client("sqs", **clients)
    s3.create_bucket(Bucket="contract-input")
    s3.create_bucket(Bucket="contract-results")
    queue_url = sqs.create_queue(QueueName="contract-dlq")["QueueUrl"]
    etag = s3.put_object(Bucket="contract-input", Key="scans/page one.png", Body=_png_with(WORDS))["ETag"].strip('"')

    # When the image's ENTRYPOINT + CMD run under the emulator with the image's ENV
    port, runtime_api = free_port(), free_port()
    (entrypoint,), (cmd,) = runtime.all("ENTRYPOINT"), runtime.all("CMD")
    bootstrap = [replay.host(root, word) for word in entrypoint.exec_form() + cmd.exec_form()]
    env = {
        **image_env,
        "HOME": str(home),
        "OCR_RESULTS_BUCKET": "contract-results",
        "OCR_DEAD_LETTER_QUEUE_URL": queue_url,
        "OCR_SOURCE_BUCKETS": "contract-input",
        "OCR_S3_ENDPOINT_URL": moto,
        "OCR_SQS_ENDPOINT_URL": moto,
        "OCR_CACHE_DIR": str(tmp_path / "cache"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "300",
        "TMPDIR": str(tmp_path),
    }
    (tmp_path / "cache").mkdir()
    # No capabilities: root then obeys file modes like the unprivileged user Lambda uses.
    emulator = ManagedProcess(
        "rie",
        [
            "setpriv",
            "--bounding-set=-all",
            "--inh-caps=-all",
            "--no-new-privs",
            str(rie),
            "--log-level",
            "info",
            "--runtime-interface-emulator-address",
            f"{LOOPBACK}:{port}",
            "--runtime-api-address",
            f"{LOOPBACK}:{runtime_api}",
            *bootstrap,
        ],
        log_path=tmp_path / "rie.log",
        env=env,
        cwd=tmp_path,
    ).start()
    try:
        emulator.wait_until(lambda: port_open(port), timeout=30, what=f"listening on {LOOPBACK}:{port}")
        event = retarget(load_event("s3-put.json"), "contract-input", "scans/page one.png", etag)
        request = urllib.request.Request(
            f"http://{LOOPBACK}:{port}{INVOKE_PATH}", data=json.dumps(event).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            answer = response.read().decode()
    finally:
        emulator.stop(grace=10)
    output = emulator.log_tail(60)

    # Then a result JSON with the page's words lands in the results bucket
    key = result_key_for("ocr/", "contract-input", "scans/page one.png")
    try:
        body = s3.get_object(Bucket="contract-results", Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        pytest.fail(f"no result at {key}; invocation answered {answer}\n{output}")
    result = json.loads(body)
    assert result["status"] == "succeeded", result
    for word in WORDS:
        assert word.lower() in result["text"].lower(), (word, result["text"])
    # and nothing went to the dead-letter queue, and the models stayed untouched
    assert not sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages")
    assert not os.access(models_dir, os.W_OK) or os.geteuid() == 0
    assert not any(home.iterdir())
    assert "errorType" not in answer, answer


def test_a_missing_emulator_fails_under_ci(monkeypatch, tmp_path):
    # Given CI and no emulator where RIE_BIN points
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("RIE_BIN", str(tmp_path / "absent"))
    # When the contract test looks for it, Then it fails rather than skips, saying how to build it
    with pytest.raises(pytest.fail.Exception, match=r"install-servers\.sh"):
        require_binary("aws-lambda-rie")


def test_the_image_ships_the_self_hosted_worker_and_its_broker_client(image_root, tmp_path):
    from bucket_ocr_local.stores.rabbitmq_server import RabbitMQServer
    from tests.support.rabbitmq import require_rabbitmq_server

    require_rabbitmq_server()
    root, runtime, replay = image_root
    # Given the console script the image puts on PATH, run by the image's Python
    worker = Path(replay.host(root, "/venv/bin/bucket-ocr-worker"))
    assert worker.is_file(), "the image has no bucket-ocr-worker"
    python = replay.host(root, "/venv/bin/python")
    broker = RabbitMQServer(tmp_path).start()
    try:
        # When it sets up the broker's topology, as Compose's and Kubernetes' setup jobs do
        done = subprocess.run(
            [python, str(worker), "setup", "--wait", "10"],
            check=False,  # the exit code is asserted below, with the output
            env={**replay.environment(runtime, root), "OCR_BROKER_URL": broker.url},
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    finally:
        broker.stop()
    # Then it declared the work queue with the image's own pika
    assert done.returncode == 0, done.stdout + done.stderr
    assert "queue ocr-work (quorum, delivery limit 5)" in done.stdout


def test_a_new_cache_key_drops_the_stages_cached_for_other_dockerfiles(monkeypatch, tmp_path):
    # Given stages cached under an old key and the current one, the root of a run whose
    # process is gone and that of this live process
    monkeypatch.setattr(sys.modules[__name__], "WORK", tmp_path)
    for kept in ("oldkey/deps/venv", "newkey/deps/venv", f"runs/{os.getpid()}/code"):
        (tmp_path / kept).mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()
    (tmp_path / "runs" / str(dead.pid) / "code").mkdir(parents=True)
    # and a read-only models dir in the old key, as the model stage leaves it
    models = tmp_path / "oldkey" / "models"
    models.mkdir()
    models.chmod(0o555)
    # When the cache is pruned for the new key
    _prune(keep="newkey")
    # Then only the new key's stages and the live run remain
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newkey", "runs"]
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [str(os.getpid())]
