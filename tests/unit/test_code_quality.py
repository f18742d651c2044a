"""Lint, format and types as part of the suite (configuration in pyproject.toml).

ruff checks and formats everything Python in the tree; mypy is strict on functions/, the
code that ships in the image. Each gate is also shown a planted fault with the project's
own configuration, so a gate that silently checked nothing (a wrong path, an exclude that
swallows the tree) cannot pass.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON_TREES = ["functions", "local", "tests", "infra"]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: it is in the test extras (pip install -e '.[test]')")
    return found


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, timeout=600)


def test_ruff_finds_nothing_in_the_tree() -> None:
    result = _run(_tool("ruff"), "check", "--no-cache", *PYTHON_TREES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_tree_is_formatted_as_ruff_formats_it() -> None:
    result = _run(_tool("ruff"), "format", "--check", "--no-cache", *PYTHON_TREES)
    assert result.returncode == 0, "run `ruff format functions local tests infra`:\n" + result.stdout + result.stderr


def test_mypy_strict_finds_nothing_in_functions() -> None:
    result = _run(_tool("mypy"), "--no-incremental", "--cache-dir", "/dev/null")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_the_gates_fail_on_planted_faults(tmp_path: Path) -> None:
    # Given the project's configuration and a package with a lint fault and a type fault
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    package = tmp_path / "functions" / "bucket_ocr"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "planted.py").write_text(
        "import os\n\nLIMITS = {  'pages':1 }\n\n\ndef half(value: int) -> int:\n    try:\n        return value / 2\n    except Exception:\n        return 0\n"
    )
    # When each gate runs there
    lint = _run(_tool("ruff"), "check", "--no-cache", "functions", cwd=tmp_path)
    formatting = _run(_tool("ruff"), "format", "--check", "--no-cache", "functions", cwd=tmp_path)
    types = _run(_tool("mypy"), "--no-incremental", "--cache-dir", "/dev/null", cwd=tmp_path)
    # Then each one names the fault
    assert lint.returncode != 0 and "F401" in lint.stdout and "BLE001" in lint.stdout, lint.stdout
    assert formatting.returncode != 0, formatting.stdout
    assert types.returncode != 0 and "planted.py" in types.stdout and "return-value" in types.stdout, types.stdout
