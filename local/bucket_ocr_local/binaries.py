"""Where the Go servers are: their env var first, then the cache install-servers.sh fills."""

from __future__ import annotations

import os
from pathlib import Path

from bucket_ocr_local.errors import BinaryNotFoundError

INSTALL_HINT = "build it with `bash local/tools/install-servers.sh` (needs Go) or set {env}"

_BINARIES = {"minio": "MINIO_BIN", "aws-lambda-rie": "RIE_BIN", "toxiproxy-server": "TOXIPROXY_BIN"}


def cache_dir() -> Path:
    if override := os.environ.get("OCR_TOOLS_CACHE"):
        return Path(override)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "bucket-ocr" / "bin"


def find_binary(name: str) -> Path:
    env = _BINARIES[name]
    candidates = [Path(os.environ[env])] if os.environ.get(env) else [cache_dir() / name]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    looked = ", ".join(str(path) for path in candidates)
    raise BinaryNotFoundError(f"{name} not found (looked at {looked}); " + INSTALL_HINT.format(env=env))


def minio_binary() -> Path:
    return find_binary("minio")


def rie_binary() -> Path:
    return find_binary("aws-lambda-rie")
