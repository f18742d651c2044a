"""The engines compared, each loaded once and asked for the text of one decoded page."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from bucket_ocr.models.bundles import PP_OCRV6_SMALL_ONNX
from bucket_ocr_bench.errors import ContestantUnavailableError

TUNED = "bucket-ocr"
PADDLE_DEFAULTS = "paddleocr-defaults"
TESSERACT = "tesseract"
ALL = (TUNED, PADDLE_DEFAULTS, TESSERACT)
# The PP-OCRv6 small weights as the wheel ships them: what PaddleOCR would download.
PADDLE_DEFAULTS_BUNDLE = PP_OCRV6_SMALL_ONNX.name
PADDLE_DEFAULTS_MEANING = (
    "PaddleOCR(...) with its default pipeline settings (det input size and limit type, batch sizes, "
    f"thresholds, runtime threads), on the unmodified PP-OCRv6 small models (bundle {PADDLE_DEFAULTS_BUNDLE}) "
    "because its default models cannot be downloaded here; doc orientation, unwarping and textline "
    "orientation off (no such models offline)"
)


class Contestant(Protocol):
    name: str

    def recognize(self, image: Image.Image) -> str: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass
class ProjectEngine:
    """The function's own engine, configured exactly as its settings make it."""

    engine: Any  # bucket_ocr.engine.OcrEngine
    name: str = TUNED

    def recognize(self, image: Image.Image) -> str:
        return "\n".join(line.text for line in self.engine.recognize(image))

    def read(self, image: Image.Image) -> tuple[str, int | None, float | None]:
        """Text, the page's clockwise turn from upright as the engine found it, and its orientation seconds.

        Engines from before issue #10 have no `read`: their turn is unknown (None), not 0,
        so the report does not count them right on upright pages. An engine that reads
        without classifying the orientation applied no turn, which is counted; its
        orientation seconds are None, not a measured 0.
        """
        read = getattr(self.engine, "read", None)
        if read is None:
            return self.recognize(image), None, None
        reading = read(image)
        seconds = None if reading.orientation_confidence is None else reading.orientation_seconds
        return "\n".join(line.text for line in reading.lines), reading.rotation, seconds

    def describe(self) -> dict[str, Any]:
        return {"means": "the project's default EngineConfig, as the function runs it", **self.engine.describe()}


@dataclass
class PaddleDefaults:
    """PaddleOCR 3.x with its own default pipeline settings on the same model files.

    Its default models cannot be downloaded here, so the det/rec directories of the
    project's bundle are passed in; orientation and unwarping models do not exist
    offline and are switched off. Everything else is PaddleOCR's default.
    """

    models_dir: Path
    bundle: str
    name: str = PADDLE_DEFAULTS
    _ocr: Any = field(default=None, repr=False)
    _manifest: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from bucket_ocr.engine import prepare_runtime_env
        from bucket_ocr.models import read_manifest

        bundle_dir = Path(self.models_dir) / self.bundle
        self._manifest = read_manifest(bundle_dir)
        import sys

        if "paddlex" not in sys.modules:  # else the project's engine already pointed its caches
            prepare_runtime_env(Path("/tmp/bucket-ocr-bench/paddle-defaults"))
        from paddleocr import PaddleOCR

        options: dict[str, Any] = {
            "text_detection_model_name": self._manifest.det.name,
            "text_detection_model_dir": str(bundle_dir / self._manifest.det.dir),
            "text_recognition_model_name": self._manifest.rec.name,
            "text_recognition_model_dir": str(bundle_dir / self._manifest.rec.dir),
            "use_doc_orientation_classify": False,
            "use_doc_unwarping": False,
            "use_textline_orientation": False,
            "device": "cpu",
        }
        if self._manifest.engine == "onnxruntime":
            options["engine"] = "onnxruntime"  # the only runtime that can load .onnx files
        self._options = options
        self._ocr = PaddleOCR(**options)

    def recognize(self, image: Image.Image) -> str:
        from bucket_ocr.engine import bgr_pixels, page_lines

        pixels = bgr_pixels(image)
        height, width = pixels.shape[:2]
        return "\n".join(line.text for line in page_lines(self._ocr.predict(pixels), width, height))

    def describe(self) -> dict[str, Any]:
        return {
            "means": PADDLE_DEFAULTS_MEANING,
            "bundle": self.bundle,
            "models": {"det": self._manifest.det.name, "rec": self._manifest.rec.name},
            "options": {k: v for k, v in self._options.items() if not k.endswith("_dir")},
        }


@dataclass
class Tesseract:
    """Tesseract 5 from Debian, LSTM engine, English + Spanish, default page segmentation."""

    languages: str = "eng+spa"
    name: str = TESSERACT

    def __post_init__(self) -> None:
        binary = shutil.which("tesseract")
        if binary is None:
            raise ContestantUnavailableError(
                "tesseract not found; install it with: bash local/tools/install-system-packages.sh"
            )
        self._binary = binary
        listed = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, check=False).stdout.split()
        missing = [lang for lang in self.languages.split("+") if lang not in listed]
        if missing:
            raise ContestantUnavailableError(
                f"tesseract lacks language data {missing}; run: bash local/tools/install-system-packages.sh"
            )
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
        self._version = (version.stdout or version.stderr).splitlines()[0]

    def encode(self, image: Image.Image) -> bytes:
        """The page as PNG for tesseract's stdin; done outside the timed call."""
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    def recognize_encoded(self, png: bytes) -> str:
        done = subprocess.run(
            [self._binary, "stdin", "stdout", "-l", self.languages],
            input=png,
            capture_output=True,
            check=False,
            timeout=600,
        )
        if done.returncode != 0:
            raise ContestantUnavailableError(f"tesseract failed: {done.stderr.decode(errors='replace')[-500:]}")
        return done.stdout.decode("utf-8", "replace")

    def recognize(self, image: Image.Image) -> str:
        return self.recognize_encoded(self.encode(image))

    def describe(self) -> dict[str, Any]:
        return {
            "means": "tesseract CLI, one process per page, -l eng+spa, default --oem/--psm (LSTM, automatic segmentation)",
            "version": self._version,
            "languages": self.languages,
        }
