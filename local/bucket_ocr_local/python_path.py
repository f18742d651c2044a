"""Child processes must import both packages the way this process does.

The repo runs from a checkout (`functions/` and `local/` on PYTHONPATH) or from an install;
children inherit whichever works here rather than assuming one.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path


def package_roots() -> list[str]:
    roots = []
    for package in ("bucket_ocr_local", "bucket_ocr"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            roots.append(str(Path(next(iter(spec.submodule_search_locations))).parent))
    return list(dict.fromkeys(roots))


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if extra:
        env.update(extra)
    existing = [part for part in env.get("PYTHONPATH", "").split(os.pathsep) if part]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(package_roots() + existing))
    # Children write logs to files; unbuffered output keeps the log current when they die.
    env["PYTHONUNBUFFERED"] = "1"
    return env
