"""Keep PaddleX/Paddle/onnxruntime off the network and inside one writable directory.

PaddleX reads its cache location and model-source switches from the environment once,
at import time (paddlex.utils.cache.CACHE_DIR, paddlex.utils.flags), and onnxruntime
writes a telemetry device id under XDG_CACHE_HOME or ~/.cache. On Lambda only /tmp is
writable and HOME is not, so these must be set before the first `import paddleocr`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..observability import logger
from .errors import EngineLoadError

# Variable -> sub-directory of the cache dir. Always overridden: the engine's cache_dir
# is the one place these libraries may write.
_CACHE_VARIABLES = {
    "PADDLE_PDX_CACHE_HOME": "paddlex",  # paddlex.utils.cache: func_ret/, locks/, temp/
    "XDG_CACHE_HOME": "xdg-cache",  # onnxruntime telemetry id, other ~/.cache users
    "MPLCONFIGDIR": "matplotlib",
    "HF_HOME": "huggingface",
    "MODELSCOPE_CACHE": "modelscope",
    "PADDLE_EXTENSION_DIR": "paddle-extensions",
}

_OFFLINE_FLAGS = {
    # paddlex.utils.flags reads this as a raw string; skips probing model hosters.
    "PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK": "True",
    "HF_HUB_OFFLINE": "1",
}


def prepare_runtime_env(cache_dir: Path) -> None:
    """Point every cache under `cache_dir` and switch model downloads off."""
    cache_dir = Path(cache_dir)
    try:
        for variable, sub_dir in _CACHE_VARIABLES.items():
            path = cache_dir / sub_dir
            path.mkdir(parents=True, exist_ok=True)
            os.environ[variable] = str(path)
        # HOME is only replaced when unusable: locally it still holds e.g. ~/.aws config
        # that the rest of the process (boto3) needs.
        if not _writable(os.environ.get("HOME")):
            home = cache_dir / "home"
            home.mkdir(parents=True, exist_ok=True)
            os.environ["HOME"] = str(home)
        if not os.environ.get("TMPDIR"):
            tmp = cache_dir / "tmp"
            tmp.mkdir(parents=True, exist_ok=True)
            os.environ["TMPDIR"] = str(tmp)
    except OSError as exc:
        raise EngineLoadError(f"cannot prepare the OCR cache directory {cache_dir}: {exc}") from exc
    os.environ.update(_OFFLINE_FLAGS)
    _warn_if_imported_too_early(cache_dir)


def _writable(directory: str | None) -> bool:
    return directory is not None and os.path.isdir(directory) and os.access(directory, os.W_OK)


def _warn_if_imported_too_early(cache_dir: Path) -> None:
    cache_module = sys.modules.get("paddlex.utils.cache")
    if cache_module is None:
        return
    current = Path(getattr(cache_module, "CACHE_DIR", ""))
    if current != cache_dir / _CACHE_VARIABLES["PADDLE_PDX_CACHE_HOME"]:
        logger.warning(
            "paddlex was imported before the OCR engine set its cache dir",
            extra={"paddlex_cache_dir": str(current), "cache_dir": str(cache_dir)},
        )
