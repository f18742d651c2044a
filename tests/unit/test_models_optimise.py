"""models/optimise: each rewrite checked on a tiny model built here, not on the wheel's."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import yaml
from onnx import TensorProto, helper, numpy_helper
from PIL import Image, ImageFont

from bucket_ocr.models.bundles import PP_OCRV6_SMALL_LATIN_INT8
from bucket_ocr.models.errors import BundleBuildError, GeluFusionCountError
from bucket_ocr.models.inference_config import detection_config, recognition_config, render_yaml
from bucket_ocr.models.optimise import optimise_bundle_models, optimiser_digest
from bucket_ocr.models.optimise.calibration import _det_tensor, _rec_tensor, calibration_set
from bucket_ocr.models.optimise.charset_head import kept_classes, slice_head
from bucket_ocr.models.optimise.gelu import fuse_gelu
from bucket_ocr.models.optimise.provenance import MODELS_DIR
from bucket_ocr.models.optimise.quantize import after_last, quantize_int8
from bucket_ocr.models.optimise.text_height import insert_text_height
from bucket_ocr.models.sources import locate_source, read_charset


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {model.graph.input[0].name: x})[0]


def _ctc_head(features: int, classes: int, seed: int = 0) -> onnx.ModelProto:
    """x [N, T, F] -> MatMul -> Add -> Softmax, the shape of PP-OCR's CTC head."""
    rng = np.random.default_rng(seed)
    weight = numpy_helper.from_array(rng.normal(size=(features, classes)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.normal(size=(classes,)).astype(np.float32), "b")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["logits"]),
            helper.make_node("Add", ["logits", "b"], ["biased"]),
            helper.make_node("Identity", ["biased"], ["same"]),
            helper.make_node("Softmax", ["same"], ["probs"], axis=-1),
        ],
        "head",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", "t", features])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["n", "t", classes])],
        initializer=[weight, bias],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def test_latin_charset_keeps_blank_space_and_latin_letters_in_order() -> None:
    # given a dictionary mixing scripts, in model output order after the CTC blank
    characters = ["a", "中", "ñ", "α", "€", "É", "字", "¿"]
    # when the Latin classes are chosen
    classes, kept = kept_classes(characters, "latin")
    # then blank (0) leads, space (len + 1) ends, and Latin characters keep their order
    assert kept == ["a", "ñ", "€", "É", "¿"]
    assert classes == [0, 1, 3, 5, 6, 8, len(characters) + 1]


def test_unknown_charset_is_a_named_build_error() -> None:
    with pytest.raises(BundleBuildError, match="unknown charset 'klingon'"):
        kept_classes(["a"], "klingon")


def test_sliced_head_scores_exactly_the_kept_classes() -> None:
    # given a CTC head over 10 classes and its output before slicing
    model = _ctc_head(features=6, classes=10)
    x = np.random.default_rng(1).normal(size=(2, 5, 6)).astype(np.float32)
    weight = numpy_helper.to_array(model.graph.initializer[0])
    bias = numpy_helper.to_array(model.graph.initializer[1])
    keep = [0, 2, 3, 7, 9]
    # when the head is cut to five classes
    slice_head(model, keep, expected_classes=10)
    # then it outputs five, the softmax over just those logits
    probs = _run(model, x)
    assert probs.shape == (2, 5, 5)
    np.testing.assert_allclose(probs, _softmax(x @ weight[:, keep] + bias[keep]), rtol=1e-5, atol=1e-6)
    assert model.graph.output[0].type.tensor_type.shape.dim[-1].dim_value == 5


def test_head_with_another_class_count_is_refused() -> None:
    with pytest.raises(BundleBuildError, match="has 10 classes, the dictionary implies 12"):
        slice_head(_ctc_head(features=4, classes=10), [0, 1], expected_classes=12)


def test_model_not_ending_in_a_ctc_head_is_refused() -> None:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "plain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    with pytest.raises(BundleBuildError, match="does not end in MatMul, Add, Softmax"):
        slice_head(helper.make_model(graph), [0], expected_classes=4)


def _line_model(height: int = 48) -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "line",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, height, "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3, height, "w"])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])


def test_text_height_shrinks_the_line_and_pads_it_white_to_the_model_height() -> None:
    # given a 48-pixel line model and a line image of dark text rows between lighter ones
    model = _line_model()
    line = np.full((1, 3, 48, 96), -1.0, np.float32)
    line[:, :, 12:36, :] = 0.0
    # when text is read at 32 pixels
    insert_text_height(model, 32)
    out = _run(model, line)
    # then the network sees 48 rows: 8 white, the line scaled by 2/3, 8 white; width 2/3
    assert out.shape == (1, 3, 48, 64)
    assert np.all(out[:, :, :8] == 1.0) and np.all(out[:, :, 40:] == 1.0)
    assert np.allclose(out[:, :, 8 + 10 : 8 + 22], 0.0, atol=1e-6)  # the text rows, scaled
    assert np.allclose(out[:, :, 8:14], -1.0, atol=1e-6)


def test_text_height_equal_to_the_model_height_changes_nothing() -> None:
    model = _line_model()
    insert_text_height(model, 48)
    assert [node.op_type for node in model.graph.node] == ["Identity"]


@pytest.mark.parametrize("height", [4, 64])
def test_text_height_outside_the_model_input_is_refused(height: int) -> None:
    with pytest.raises(BundleBuildError, match=f"text height {height} must be between 8"):
        insert_text_height(_line_model(), height)


def _conv_net() -> onnx.ModelProto:
    rng = np.random.default_rng(2)
    inits = [
        numpy_helper.from_array(rng.normal(size=(8, 3, 3, 3)).astype(np.float32) * 0.3, "w1"),
        numpy_helper.from_array(rng.normal(size=(4, 8, 1, 1)).astype(np.float32) * 0.3, "w2"),
    ]
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1], name="backbone_conv"),
            helper.make_node("Relu", ["c1"], ["r1"], name="backbone_relu"),
            helper.make_node("Concat", ["r1", "r1"], ["cat"], axis=1, name="fuse"),
            helper.make_node("Slice", ["cat", "starts", "ends", "axes"], ["half"], name="head_slice"),
            helper.make_node("Conv", ["half", "w2"], ["y"], name="head_conv"),
        ],
        "convs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 16])],
        initializer=[
            *inits,
            numpy_helper.from_array(np.array([0], np.int64), "starts"),
            numpy_helper.from_array(np.array([8], np.int64), "ends"),
            numpy_helper.from_array(np.array([1], np.int64), "axes"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_int8_quantisation_keeps_the_chosen_nodes_float_and_the_output_close() -> None:
    # given a small conv net and calibration samples like its inputs
    model = _conv_net()
    rng = np.random.default_rng(3)
    samples = [rng.normal(size=(1, 3, 16, 16)).astype(np.float32) for _ in range(8)]
    expected = _run(model, samples[0])
    # when quantised with everything after the last Concat left in float
    quantized = quantize_int8(model, samples, after_last("Concat"))
    # then the backbone runs in int8, the head in float, and the output stays close
    ops = [node.op_type for node in quantized.graph.node]
    assert "QLinearConv" in ops and "Conv" in ops
    got = _run(quantized, samples[0])
    assert np.abs(got - expected).max() < 0.05 * np.abs(expected).max()


def test_split_point_missing_from_the_graph_is_a_named_build_error() -> None:
    with pytest.raises(BundleBuildError, match="no AveragePool node"):
        after_last("AveragePool", before="MatMul")(_conv_net())


def test_calibration_pages_and_lines_are_preprocessed_like_paddlex_and_reproducible() -> None:
    # given two calibration sets from the same seed and one from another
    first = calibration_set(pages=2, lines=6, det_limit_side_len=960, seed=7)
    again = calibration_set(pages=2, lines=6, det_limit_side_len=960, seed=7)
    other = calibration_set(pages=2, lines=6, det_limit_side_len=960, seed=8)
    # then det pages are capped at 960 on a 32-pixel grid, lines are 48 high and >= 320 wide
    assert len(first.det) == 2 and len(first.rec) == 6
    for page in first.det:
        _, channels, height, width = page.shape
        assert channels == 3 and max(height, width) <= 960 and height % 32 == 0 and width % 32 == 0
    for line in first.rec:
        assert line.shape[:3] == (1, 3, 48) and line.shape[3] >= 320
        assert line.min() >= -1.0 and line.max() <= 1.0
        assert line.min() < -0.5  # dark ink on the line, not an empty crop
    # and the same seed gives the same tensors, another seed other ones
    assert all(np.array_equal(a, b) for a, b in zip(first.rec, again.rec, strict=True))
    assert not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first.rec, other.rec, strict=True))


def _erf_gelu_model() -> onnx.ModelProto:
    """GELU as paddle2onnx exports it: x * 0.5 * (1 + erf(x / sqrt 2)), then a Relu."""
    constants = [
        numpy_helper.from_array(np.array(np.sqrt(2.0), np.float32), "sqrt2"),
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
    ]
    graph = helper.make_graph(
        [
            helper.make_node("Div", ["x", "sqrt2"], ["scaled"]),
            helper.make_node("Erf", ["scaled"], ["erf"]),
            helper.make_node("Add", ["erf", "one"], ["plus_one"]),
            helper.make_node("Mul", ["x", "plus_one"], ["times_x"]),
            helper.make_node("Mul", ["times_x", "half"], ["gelu"]),
            helper.make_node("Relu", ["gelu"], ["y"]),
        ],
        "gelu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])],
        initializer=constants,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_erf_gelu_becomes_one_onnxruntime_gelu_with_the_same_output() -> None:
    # given the five-node GELU of the exporter
    model = _erf_gelu_model()
    x = np.linspace(-4, 4, 16, dtype=np.float32).reshape(2, 8)
    expected = _run(model, x)
    # when fused
    fused = fuse_gelu(model)
    # then one Gelu node replaces the five, and the output is unchanged
    assert fused == 1
    assert [node.op_type for node in model.graph.node] == ["Gelu", "Relu"]
    np.testing.assert_allclose(_run(model, x), expected, rtol=1e-5, atol=1e-6)


def test_a_look_alike_that_is_not_gelu_is_left_alone() -> None:
    # given the same shape of graph but with 0.7 instead of 0.5
    model = _erf_gelu_model()
    model.graph.initializer[2].CopyFrom(numpy_helper.from_array(np.array(0.7, np.float32), "half"))
    # when fusion runs, then nothing changes
    assert fuse_gelu(model) == 0
    assert len(model.graph.node) == 6


def test_a_recognition_model_with_another_gelu_count_stops_the_build_with_a_named_error() -> None:
    # given the wheel's PP-OCRv6 models, and the default bundle's optimisation expecting one
    # GELU fewer than the recognition export holds (13)
    spec = PP_OCRV6_SMALL_LATIN_INT8
    assert spec.optimisation is not None
    source = locate_source(spec)
    expecting_12 = replace(spec.optimisation, rec_gelu_fusions=12)
    det, rec = (source.file(part.files["inference.onnx"]) for part in spec.parts)
    # when the optimiser runs, then it stops at the fusion, naming both counts and the model
    with pytest.raises(GeluFusionCountError, match=r"fused 13 erf-GELUs in .*PP-OCRv6_rec_small\.onnx, expected 12"):
        optimise_bundle_models(det, rec, read_charset(source, spec.charset), expecting_12)


ROOT = Path(__file__).resolve().parents[2]


def calibration_digest() -> str:
    """sha256 of a small calibration set's tensors, shapes included."""
    calibration = calibration_set(pages=2, lines=8, det_limit_side_len=960, seed=1729)
    digest = hashlib.sha256()
    for tensor in calibration.det + calibration.rec:
        digest.update(repr(tensor.shape).encode() + tensor.tobytes())
    return digest.hexdigest()


def test_calibration_input_is_byte_identical_across_builds_whatever_the_interpreter_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a build with no default font in Pillow
    def no_default_font(size: float | None = None) -> ImageFont.FreeTypeFont:
        raise AssertionError("calibration must draw with its own font, not Pillow's default")

    monkeypatch.setattr(ImageFont, "load_default", no_default_font)
    here = calibration_digest()
    # and another build in a fresh interpreter without any docstrings (-OO), another hash
    # seed and another working directory
    done = subprocess.run(
        [sys.executable, "-OO", "-c", f"from {__name__} import calibration_digest; print(calibration_digest())"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONHASHSEED": "4242", "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # then both render the same calibration tensors, byte for byte
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == here


def test_calibration_preprocesses_as_the_bundles_inference_yml_tells_paddlex() -> None:
    # given the preprocessing PaddleX reads from a bundle's inference.yml
    det_yml = yaml.safe_load(render_yaml(detection_config("PP-OCRv6_small_det")))
    rec_yml = yaml.safe_load(render_yaml(recognition_config("PP-OCRv6_small_rec", ["a"])))
    det_ops = {name: args for op in det_yml["PreProcess"]["transform_ops"] for name, args in op.items()}
    rec_ops = {name: args for op in rec_yml["PreProcess"]["transform_ops"] for name, args in op.items()}
    mean, std = det_ops["NormalizeImage"]["mean"], det_ops["NormalizeImage"]["std"]
    channels, height, min_width = rec_ops["RecResizeImg"]["image_shape"]
    # when calibration turns a plain page (R 210, G 120, B 30) and a short white line into tensors
    page = _det_tensor(Image.new("RGB", (64, 64), (210, 120, 30)), 960)
    line = _rec_tensor(Image.new("RGB", (40, 20), "white"))
    # then the page is normalised in BGR order with the yml's mean and std
    bgr = (30, 120, 210)
    expected = [(value / 255 - m) / s for value, m, s in zip(bgr, mean, std, strict=True)]
    np.testing.assert_allclose(page[0, :, 0, 0], expected, rtol=1e-6)
    # and the line is the yml's height, padded to its narrowest width, white as PaddleX makes it
    assert line.shape == (1, channels, height, min_width)
    np.testing.assert_allclose(line[0, :, :, :40], 1.0)


def _copy_models_package(dest: Path) -> Path:
    shutil.copytree(MODELS_DIR, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_the_optimiser_digest_ignores_what_changes_no_byte(tmp_path: Path) -> None:
    # given a copy of the models package, which digests like the original
    models = _copy_models_package(tmp_path / "models")
    before = optimiser_digest(models)
    assert before == optimiser_digest()
    # when its calibration README and bytecode change
    (models / "optimise" / "calibration_data" / "README.md").write_text("reworded\n")
    (models / "optimise" / "__pycache__").mkdir()
    (models / "optimise" / "__pycache__" / "steps.cpython-311.pyc").write_bytes(b"bytecode")
    # then the digest holds
    assert optimiser_digest(models) == before


@pytest.mark.parametrize(
    "changed",
    [
        "optimise/steps.py",
        "optimise/gelu.py",
        "optimise/calibration_data/prose.txt",
        "optimise/calibration_data/aileron-regular-subset.ttf",
        "inference_config.py",
    ],
)
def test_the_optimiser_digest_follows_its_code_calibration_files_and_shared_constants(
    tmp_path: Path, changed: str
) -> None:
    # given a copy of the models package and its digest
    models = _copy_models_package(tmp_path / "models")
    before = optimiser_digest(models)
    # when one file the optimised models depend on changes
    path = models / changed
    path.write_bytes(path.read_bytes() + b"\n")
    # then so does the digest, and with it every optimised bundle's recipe
    assert optimiser_digest(models) != before
