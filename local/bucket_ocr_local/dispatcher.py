"""The MinIO webhook receiver: persist first, acknowledge second.

MinIO's webhook target (internal/event/target/webhook.go) POSTs one JSON document per
event - {"EventName", "Key", "Records": [event]} - with `Authorization: Bearer <token>`
when an auth token is configured, and counts any 2xx as delivered. With a queue_dir it
keeps undelivered events on disk and retries every few seconds, so a dispatcher that is
down loses nothing as long as we answer 2xx only for an event we have stored. Older MinIO
releases checked a target with an empty-body POST; we answer that with 200 so either
generation configures cleanly.
"""

from __future__ import annotations

import hmac
import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bucket_ocr_local.event_queue import EventQueue
from bucket_ocr_local.processes import LOOPBACK

EVENTS_PATH = "/minio/events"
MAX_BODY_BYTES = 8 * 1024 * 1024


class Dispatcher:
    """Runs the receiver in a thread; stop() closes the port so MinIO starts queueing."""

    def __init__(self, queue: EventQueue, *, port: int, auth_token: str):
        self.queue = queue
        self.port = port
        self.auth_token = auth_token
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}{EVENTS_PATH}"

    def start(self) -> Dispatcher:
        handler = type("BoundHandler", (_Handler,), {"dispatcher": self})
        server = ThreadingHTTPServer((LOOPBACK, self.port), handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="dispatcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def authorised(self, header: str | None) -> bool:
        expected = f"Bearer {self.auth_token}"
        return hmac.compare_digest((header or "").encode(), expected.encode())


class _Handler(BaseHTTPRequestHandler):
    dispatcher: Dispatcher
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.split("?", 1)[0] != EVENTS_PATH:
            return self._reply(HTTPStatus.NOT_FOUND, {"error": f"POST events to {EVENTS_PATH}"})
        if not self.dispatcher.authorised(self.headers.get("Authorization")):
            # 403 is what MinIO turns into "please check if your auth token is correctly set".
            return self._reply(HTTPStatus.FORBIDDEN, {"error": "bad or missing bearer token"})
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "event too large"})
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return self._reply(HTTPStatus.OK, {"ping": "ok"})
        try:
            body = json.loads(raw)
        except ValueError:
            # Not retryable: MinIO would resend the same bytes forever. 400 makes it log.
            return self._reply(HTTPStatus.BAD_REQUEST, {"error": "body is not JSON"})
        if not isinstance(body, dict):
            return self._reply(HTTPStatus.BAD_REQUEST, {"error": "body is not a JSON object"})
        try:
            event_id = self.dispatcher.queue.accept(body)
        except Exception as exc:  # storage trouble: make MinIO keep the event and retry
            return self._reply(HTTPStatus.SERVICE_UNAVAILABLE, {"error": f"not stored: {exc}"})
        self._reply(HTTPStatus.OK, {"accepted": event_id})

    def _reply(self, status: HTTPStatus, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass  # one line per event would drown the CLI's own output
