"""Toxiproxy: a real TCP proxy between the workers and storage that injects faults on demand.

The server is Shopify's toxiproxy-server, built by local/tools/install-servers.sh. It is
driven through its REST API with urllib (no client library to install): one proxy in front
of the store's S3 port, and toxics added for a while and removed again. Toxics work on TCP,
not HTTP: latency, resets (reset_peer) and stalls are what it can do; an HTTP 5xx it cannot.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bucket_ocr_local.binaries import find_binary
from bucket_ocr_local.errors import BinaryNotFoundError
from bucket_ocr_local.processes import LOOPBACK, ManagedProcess, free_port
from bucket_ocr_soak.errors import ToxiproxyError, ToxiproxyNotFoundError

BINARY_NAME = "toxiproxy-server"


def toxiproxy_binary() -> Path:
    """$TOXIPROXY_BIN, else the cache install-servers.sh fills, or a named error."""
    try:
        return find_binary(BINARY_NAME)
    except BinaryNotFoundError as error:
        raise ToxiproxyNotFoundError(str(error)) from error


@dataclass(frozen=True)
class Toxic:
    """One toxic as Toxiproxy's API takes it; ``toxicity`` is the share of connections it hits."""

    name: str
    type: str
    attributes: dict[str, Any] = field(default_factory=dict)
    stream: str = "downstream"
    toxicity: float = 1.0

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": self.attributes,
        }


class ToxiproxyServer:
    """toxiproxy-server on 127.0.0.1, its API on a free port, with a fixed seed for its dice."""

    def __init__(self, work_dir: Path, *, seed: int, binary: Path | None = None):
        self.api_port = free_port()
        self.process = ManagedProcess(
            "toxiproxy",
            [str(binary or toxiproxy_binary()), "-host", LOOPBACK, "-port", str(self.api_port), "-seed", str(seed)],
            log_path=Path(work_dir) / "logs" / "toxiproxy.log",
        )

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.api_port}"

    def start(self, timeout: float = 30) -> ToxiproxyServer:
        self.process.start()
        self.process.wait_until(self._answers, timeout=timeout, what=f"answering on {self.api_url}")
        return self

    def stop(self) -> None:
        self.process.stop(grace=5)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/version", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def proxy_in_front_of(self, name: str, upstream_url: str) -> ToxiproxyProxy:
        """A new proxy listening on a free port of 127.0.0.1 that forwards to ``upstream_url``'s host:port."""
        upstream = urlsplit(upstream_url)
        listen = f"{LOOPBACK}:{free_port()}"
        body = {"name": name, "listen": listen, "upstream": f"{upstream.hostname}:{upstream.port}", "enabled": True}
        _call(self.api_url, "POST", "/proxies", body)
        return ToxiproxyProxy(self.api_url, name, f"{upstream.scheme}://{listen}")


class ToxiproxyProxy:
    """One proxy: ``url`` is where clients connect instead of the upstream."""

    def __init__(self, api_url: str, name: str, url: str):
        self._api_url = api_url
        self.name = name
        self.url = url

    def add(self, toxic: Toxic) -> None:
        _call(self._api_url, "POST", f"/proxies/{self.name}/toxics", toxic.as_json())

    def remove(self, toxic_name: str) -> None:
        _call(self._api_url, "DELETE", f"/proxies/{self.name}/toxics/{toxic_name}")

    def toxics(self) -> list[dict[str, Any]]:
        return _call(self._api_url, "GET", f"/proxies/{self.name}/toxics") or []


def _call(api_url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{api_url}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
    except urllib.error.HTTPError as refused:
        raise ToxiproxyError(
            f"{method} {path}: HTTP {refused.code}: {refused.read().decode(errors='replace')}"
        ) from None
    except OSError as unreachable:
        raise ToxiproxyError(f"{method} {path}: {unreachable}") from unreachable
    return json.loads(text) if text.strip() else None
