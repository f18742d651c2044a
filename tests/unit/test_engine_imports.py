"""bucket_ocr.engine imports its names on first use, so the function's core does not load OCR.

Each check runs in a fresh interpreter: in this one, other tests have long since imported
the engine, and which modules a first import loads is the point.
"""

from __future__ import annotations

import subprocess
import sys

# Measured with `python -X importtime`: ocr_engine (~90 ms with what it imports), and the
# two modules that import numpy (~65 ms each); parallel_recognition and ocr_engine are
# the PaddleX-facing ones. None of them is needed to catch the engine's errors.
HEAVY = (
    "numpy",
    "bucket_ocr.engine.ocr_engine",
    "bucket_ocr.engine.orientation",
    "bucket_ocr.engine.pipeline_io",
    "bucket_ocr.engine.parallel_recognition",
)


def _run(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True)


def _loads_nothing_heavy(statement: str) -> str:
    return (
        f"import sys\n{statement}\n"
        f"heavy = [name for name in {HEAVY!r} if name in sys.modules]\n"
        "assert not heavy, f'loaded: {heavy}'\n"
    )


def test_importing_processing_loads_no_heavy_engine_module() -> None:
    # given a fresh interpreter
    # when the function's core is imported (it catches the engine's errors)
    # then neither numpy nor the engine's OCR modules are loaded
    _run(_loads_nothing_heavy("import bucket_ocr.processing"))


def test_the_engine_package_and_its_errors_load_nothing_heavy() -> None:
    _run(_loads_nothing_heavy("import bucket_ocr.engine\nfrom bucket_ocr.engine import EngineError, EngineLoadError"))


def test_each_public_name_is_its_modules_own_whatever_was_imported_first() -> None:
    # given the engine's modules imported directly first, as the engine itself and tests do
    # when each public name is taken from the package
    # then it is the object its module defines (not, say, a submodule of the same name)
    _run(
        "import sys, types\n"
        "import bucket_ocr.engine.ocr_engine\n"
        "import bucket_ocr.engine as engine\n"
        "for name in engine.__all__:\n"
        "    value = getattr(engine, name)\n"
        "    assert not isinstance(value, types.ModuleType), name\n"
        "    assert getattr(sys.modules[value.__module__], name) is value, name\n"
        "    assert name in dir(engine), name\n"
        "assert not hasattr(engine, 'no_such_name')\n"
    )
