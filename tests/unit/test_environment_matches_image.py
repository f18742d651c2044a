"""The test environment runs what the image ships: the versions in container/'s locks."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.MULTILINE)


def locked(name: str) -> dict[str, str]:
    text = (ROOT / "container" / name).read_text()
    return {canonical(package): version for package, version in PIN.findall(text)}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_version(name: str) -> str | None:
    # The first on sys.path, as an import would find it: setuptools appends its vendored
    # copies (packaging, ...) to sys.path once imported, and those must not count.
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def test_every_locked_package_is_installed_at_its_locked_version():
    # given what the image installs: the runtime and models locks, the orientation
    # classifier's wheel, and headless OpenCV over them
    wanted = {
        **locked("requirements-models.lock"),
        **locked("requirements-orientation.lock"),
        **locked("requirements-cv2.lock"),
    }
    assert len(wanted) > 50, "the locks were not parsed"

    # then the environment running the tests has each one, at that version (local/run
    # installs from the locks; a venv installed from pyproject's ranges drifts)
    have = {name: installed_version(name) for name in wanted}
    drift = {name: (version, have[name]) for name, version in wanted.items() if have[name] != version}
    assert drift == {}, f"locked vs installed (run local/run test, which installs from the locks): {drift}"
