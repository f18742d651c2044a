"""Build bundle directories from installed wheels: offline, idempotent and atomic.

Layout written under DEST:
    DEST/<bundle>/bundle.json
    DEST/<bundle>/det/{inference.onnx | inference.pdmodel + inference.pdiparams, inference.yml}
    DEST/<bundle>/rec/{... same ..., inference.yml}
    DEST/<bundle>/orientation/inference.onnx   (page orientation classifier, copied as is)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from .bundles import ORIENTATION_FILE, BundleSpec, get_bundle_spec
from .errors import BundleBuildError, BundleVerificationError
from .inference_config import detection_config, recognition_config, render_yaml
from .manifest import MANIFEST_NAME, Manifest, ModelEntry, OrientationEntry, check_files, read_manifest, sha256_file
from .sources import locate_orientation, locate_source, read_charset, read_orientation_labels

# The container bakes bundles at build time and runs as another user: everything we
# write must stay world-readable even though mkdtemp creates private directories.
_DIR_MODE = 0o755
_FILE_MODE = 0o644


@dataclass(frozen=True)
class BuildResult:
    bundle: str
    path: Path
    status: Literal["built", "unchanged"]


@dataclass(frozen=True)
class _Plan:
    """Everything a bundle will contain, computed before touching the destination.

    Optimised bundles derive their model files, which takes a while; their hashes are
    known only once `derive` runs, so `manifest.files` lacks them and `manifest.recipe`
    stands in for them when deciding whether a bundle is current.
    """

    copies: dict[str, Path]  # relative path in bundle -> source file
    generated: dict[str, bytes]  # relative path in bundle -> content
    manifest: Manifest
    derived: tuple[str, ...] = ()  # relative paths `derive` returns
    derive: Callable[[], Mapping[str, bytes]] | None = None


def _plan(spec: BundleSpec, source_root: Path | None) -> _Plan:
    source = locate_source(spec, source_root)
    characters = read_charset(source, spec.charset)
    sources = {
        f"{part.role}/{bundle_name}": source.file(package_relative)
        for part in spec.parts
        for bundle_name, package_relative in part.files.items()
    }
    copies: dict[str, Path] = sources
    generated: dict[str, bytes] = {}
    recipe: dict[str, object] = {}
    derive = None
    if spec.optimisation is not None:
        copies = {}
        characters, derive, recipe = _optimised(spec, sources, characters)
    orientation, orientation_copy = _orientation(spec, source_root)
    copies = {**copies, **orientation_copy}
    try:
        generated["det/inference.yml"] = render_yaml(detection_config(spec.det.model_name))
        generated["rec/inference.yml"] = render_yaml(recognition_config(spec.rec.model_name, characters))
    except ValueError as exc:
        raise BundleBuildError(f"cannot write inference.yml for {spec.name!r}: {exc}") from exc

    files = {rel: sha256_file(path) for rel, path in copies.items()}
    files.update({rel: hashlib.sha256(data).hexdigest() for rel, data in generated.items()})
    manifest = Manifest(
        bundle=spec.name,
        engine=spec.engine,
        det=ModelEntry(name=spec.det.model_name, dir="det"),
        rec=ModelEntry(name=spec.rec.model_name, dir="rec"),
        source_distribution=source.distribution,
        source_version=source.version,
        character_count=len(characters),
        files=dict(sorted(files.items())),
        recipe=recipe,
        orientation=orientation,
    )
    derived = tuple(sorted(sources)) if derive is not None else ()
    return _Plan(copies=copies, generated=generated, manifest=manifest, derived=derived, derive=derive)


def _orientation(spec: BundleSpec, source_root: Path | None) -> tuple[OrientationEntry | None, dict[str, Path]]:
    if spec.orientation is None:
        return None, {}
    source = locate_orientation(spec.orientation, spec.name, source_root)
    entry = OrientationEntry(
        file=ORIENTATION_FILE,
        labels=read_orientation_labels(source, spec.orientation),
        source_distribution=source.distribution,
        source_version=source.version,
    )
    return entry, {ORIENTATION_FILE: source.file(spec.orientation.path)}


def _optimised(
    spec: BundleSpec, sources: dict[str, Path], characters: list[str]
) -> tuple[list[str], Callable[[], Mapping[str, bytes]], dict[str, object]]:
    # Imported here: only optimised bundles need the `onnx` package.
    from .optimise import optimise_bundle_models, optimiser_digest, toolchain_versions
    from .optimise.charset_head import kept_classes

    optimisation = spec.optimisation
    assert optimisation is not None
    if set(sources) != {"det/inference.onnx", "rec/inference.onnx"}:
        raise BundleBuildError(f"bundle {spec.name!r}: only ONNX det/rec models can be optimised")
    _, kept = kept_classes(characters, optimisation.charset)

    def derive() -> Mapping[str, bytes]:
        models = optimise_bundle_models(
            sources["det/inference.onnx"], sources["rec/inference.onnx"], characters, optimisation
        )
        return {"det/inference.onnx": models.det, "rec/inference.onnx": models.rec}

    recipe = {
        "optimiser_sha256": optimiser_digest(),
        "toolchain": toolchain_versions(),
        **optimisation.recipe(),
        "sources": {relative: sha256_file(path) for relative, path in sorted(sources.items())},
    }
    return kept, derive, recipe


def _is_current(target: Path, plan: _Plan) -> bool:
    try:
        existing = read_manifest(target)
        if set(existing.files) != set(plan.manifest.files) | set(plan.derived):
            return False
        planned_part = {k: v for k, v in existing.files.items() if k not in plan.derived}
        if replace(existing, files=planned_part) != plan.manifest:
            return False
        check_files(target, existing)
    except BundleVerificationError:
        return False
    return True


def build_bundle(
    name: str,
    dest: Path,
    *,
    source_root: Path | None = None,
    force: bool = False,
) -> BuildResult:
    spec = get_bundle_spec(name)
    plan = _plan(spec, source_root)
    dest = Path(dest)
    target = dest / spec.name
    if not force and _is_current(target, plan):
        return BuildResult(bundle=spec.name, path=target, status="unchanged")
    derived = dict(plan.derive()) if plan.derive is not None else {}
    manifest = replace(
        plan.manifest,
        files=dict(
            sorted({**plan.manifest.files, **{k: hashlib.sha256(v).hexdigest() for k, v in derived.items()}}.items())
        ),
    )

    try:
        dest.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}.building-", dir=dest))
    except OSError as exc:
        raise BundleBuildError(f"cannot create a staging directory in {dest}: {exc}") from exc
    try:
        _write(staging, plan.copies, {**plan.generated, **derived}, manifest)
        _swap_into_place(staging, target)
    except OSError as exc:
        raise BundleBuildError(f"building {spec.name!r} into {target} failed: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already after a successful swap
    return BuildResult(bundle=spec.name, path=target, status="built")


def _write(staging: Path, copies: Mapping[str, Path], generated: Mapping[str, bytes], manifest: Manifest) -> None:
    os.chmod(staging, _DIR_MODE)
    for relative, source in copies.items():
        path = _prepare(staging, relative)
        shutil.copyfile(source, path)
        os.chmod(path, _FILE_MODE)
    for relative, data in generated.items():
        path = _prepare(staging, relative)
        path.write_bytes(data)
        os.chmod(path, _FILE_MODE)
    # The manifest goes last: a staging dir without one is never mistaken for a bundle.
    manifest_path = staging / MANIFEST_NAME
    manifest_path.write_bytes(manifest.to_json())
    os.chmod(manifest_path, _FILE_MODE)
    check_files(staging, manifest)


def _prepare(root: Path, relative: str) -> Path:
    path = root / relative
    path.parent.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path.parent, _DIR_MODE)
    return path


def _swap_into_place(staging: Path, target: Path) -> None:
    # rename() cannot replace a non-empty directory, so move the old bundle aside first;
    # the window without a bundle is two renames long, and readers see either version.
    if not target.exists():
        os.rename(staging, target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.retired-", dir=target.parent))
    os.rename(target, retired / target.name)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(retired / target.name, target)
        retired.rmdir()
        raise
    shutil.rmtree(retired, ignore_errors=True)


def verify_bundle(name: str, dest: Path) -> Manifest:
    """Check a built bundle against its manifest; raises BundleVerificationError."""
    spec = get_bundle_spec(name)
    target = Path(dest) / spec.name
    manifest = read_manifest(target)
    if manifest.bundle != spec.name:
        raise BundleVerificationError(
            f"{target / MANIFEST_NAME} describes bundle {manifest.bundle!r}, expected {spec.name!r}"
        )
    check_files(target, manifest)
    return manifest
