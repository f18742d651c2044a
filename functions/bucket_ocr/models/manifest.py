"""`bundle.json`: what a bundle directory holds, so readers never guess from file names.

The OCR engine reads it to learn the engine and PaddleX model names; the build command
compares it to decide whether a rebuild is needed. It holds no timestamps so that
building twice from the same wheel gives byte-identical output.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import BundleVerificationError

MANIFEST_NAME = "bundle.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ModelEntry:
    name: str  # PaddleX model name, e.g. PP-OCRv6_small_det
    dir: str  # sub-directory of the bundle


@dataclass(frozen=True)
class OrientationEntry:
    """The page orientation classifier (engine/orientation.py) and where it came from."""

    file: str  # relative path in the bundle; its sha256 is in Manifest.files
    labels: tuple[str, ...]  # the model's classes in output order: clockwise degrees
    source_distribution: str
    source_version: str

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> OrientationEntry:
        return cls(
            file=raw["file"],
            labels=tuple(str(label) for label in raw["labels"]),
            source_distribution=raw["source_distribution"],
            source_version=raw["source_version"],
        )


@dataclass(frozen=True)
class Manifest:
    bundle: str
    engine: str  # "onnxruntime" or "paddle"
    det: ModelEntry
    rec: ModelEntry
    source_distribution: str
    source_version: str
    character_count: int
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    format_version: int = FORMAT_VERSION
    # How files were derived rather than copied (source hashes, optimisation settings, the
    # optimiser's own digest and the toolchain versions it ran with): what decides a
    # rebuild when the derived files' own hashes cannot be known up front.
    recipe: dict[str, Any] = field(default_factory=dict)
    # None in bundles built before the classifier was baked (same format version: they
    # still load, and the engine then reads pages as stored).
    orientation: OrientationEntry | None = None

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Manifest:
        return cls(
            bundle=raw["bundle"],
            engine=raw["engine"],
            det=ModelEntry(**raw["det"]),
            rec=ModelEntry(**raw["rec"]),
            source_distribution=raw["source_distribution"],
            source_version=raw["source_version"],
            character_count=int(raw["character_count"]),
            files=dict(raw["files"]),
            format_version=int(raw["format_version"]),
            recipe=dict(raw.get("recipe", {})),
            orientation=OrientationEntry.from_dict(raw["orientation"]) if raw.get("orientation") else None,
        )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(bundle_dir: Path) -> Manifest:
    path = Path(bundle_dir) / MANIFEST_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BundleVerificationError(
            f"{path} not found; build the bundle with: bucket-ocr-models build --dest {Path(bundle_dir).parent}"
        ) from exc
    except (OSError, ValueError) as exc:
        raise BundleVerificationError(f"{path} is unreadable: {exc}") from exc
    try:
        manifest = Manifest.from_dict(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleVerificationError(f"{path} is not a valid bundle manifest: {exc!r}") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise BundleVerificationError(
            f"{path} has format_version {manifest.format_version}, expected {FORMAT_VERSION}; rebuild it"
        )
    return manifest


def check_files(bundle_dir: Path, manifest: Manifest, *, hashes: bool = True) -> None:
    """Raise BundleVerificationError unless every listed file exists (and hashes match)."""
    for relative, expected in sorted(manifest.files.items()):
        path = Path(bundle_dir) / relative
        if not path.is_file():
            raise BundleVerificationError(f"{path} listed in {MANIFEST_NAME} is missing")
        if hashes and sha256_file(path) != expected:
            raise BundleVerificationError(f"{path} does not match the sha256 in {MANIFEST_NAME}")
