"""RabbitMQ for the integration tier: the install check and a client for the tests' own calls.

RabbitMQ comes from Debian (local/tools/install-system-packages.sh). Missing, its tests
skip on a developer's machine but fail under CI=true, like the Go servers' in
tests/integration/conftest.py: a CI run that silently skipped the broker would prove nothing.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pika

from bucket_ocr_local.errors import BinaryNotFoundError
from bucket_ocr_local.stores.rabbitmq_server import RabbitMQServer, rabbitmq_server_binary
from tests.support.servers import require


def require_rabbitmq_server() -> None:
    require(rabbitmq_server_binary, "RabbitMQ", BinaryNotFoundError)


def amqp_connection(server: RabbitMQServer) -> pika.BlockingConnection:
    parameters = pika.URLParameters(server.url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = 5
    return pika.BlockingConnection(parameters)


def management_get(
    server: RabbitMQServer, path: str, *, user: str | None = None, password: str | None = None
) -> tuple[int, Any]:
    """GET on the management API with basic auth (the server's own credentials by default)."""
    token = base64.b64encode(f"{user or server.user}:{password or server.password}".encode()).decode()
    request = urllib.request.Request(f"{server.management_url}{path}", headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def listening_addresses(port: int) -> set[str]:
    """The local addresses a TCP socket listens on at ``port``, as the kernel has them (Linux)."""
    addresses = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if state != "0A" or int(local_port, 16) != port:  # 0A: LISTEN
                continue
            # The kernel prints each 32-bit word in host (little-endian) order.
            raw = b"".join(bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, len(address), 8))
            addresses.add(str(ipaddress.ip_address(raw[:width])))
    return addresses
