"""A real RabbitMQ node of our own (bucket_ocr_local.stores.rabbitmq_server).

What the stack and the broker tests rely on: a node on loopback ports of its own, with
its own data, that keeps durable quorum queues and their persistent messages across a
stop and a start on the same ports; two nodes side by side without colliding; and the
management API that Compose health checks and KEDA use.

Cost: a node boots in about 6-9 s and stops in about 6 s on the 2-core CI machine, so the
module starts its two nodes once, together, and stops them together.
"""

from __future__ import annotations

import stat
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pika
import pytest

from bucket_ocr_local.errors import BinaryNotFoundError
from bucket_ocr_local.processes import LOOPBACK, port_open
from bucket_ocr_local.stores import rabbitmq_server
from bucket_ocr_local.stores.rabbitmq_server import RabbitMQServer
from tests.support.rabbitmq import amqp_connection, listening_addresses, management_get, require_rabbitmq_server

pytestmark = pytest.mark.integration

QUORUM = {"x-queue-type": "quorum", "x-delivery-limit": 5}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RabbitMQServer]]:
    """Two nodes in work dirs of their own, started together and stopped together."""
    require_rabbitmq_server()
    nodes = [RabbitMQServer(tmp_path_factory.mktemp("rabbitmq")) for _ in range(2)]
    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        try:
            list(pool.map(lambda node: node.start(), nodes))
            yield nodes
        finally:
            list(pool.map(lambda node: node.stop(), nodes))


@pytest.fixture(scope="module")
def server(servers: list[RabbitMQServer]) -> RabbitMQServer:
    return servers[0]


def test_a_quorum_queue_keeps_a_persistent_message_across_stop_and_start(server: RabbitMQServer) -> None:
    # Given a durable quorum queue with a delivery limit, and a persistent message the
    # broker has confirmed
    queue = f"ocr-test-{uuid.uuid4().hex[:8]}"
    ports = (server.amqp_port, server.management_port)
    with amqp_connection(server) as connection:
        channel = connection.channel()
        channel.queue_declare(queue, durable=True, arguments=QUORUM)
        channel.confirm_delivery()
        channel.basic_publish(
            "",
            queue,
            b"scan-0001.pdf",
            pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent, message_id="m-1"),
        )

    # When the node is stopped and started again
    server.stop()
    assert not server.running()
    assert not any(port_open(port) for port in ports)
    server.start()

    # Then it answers on the same ports with the same credentials, the queue is still a
    # quorum queue with its delivery limit, and the message is still there
    assert (server.amqp_port, server.management_port) == ports
    status, details = management_get(server, f"/api/queues/%2F/{queue}")
    assert status == 200
    assert details["type"] == "quorum"
    assert details["arguments"]["x-delivery-limit"] == 5
    with amqp_connection(server) as connection:
        channel = connection.channel()
        assert channel.queue_declare(queue, passive=True).method.message_count == 1
        _, properties, body = channel.basic_get(queue, auto_ack=True)
    assert body == b"scan-0001.pdf"
    assert properties.message_id == "m-1"
    assert properties.delivery_mode == pika.DeliveryMode.Persistent.value


def test_the_management_api_answers_with_the_nodes_credentials_only(server: RabbitMQServer) -> None:
    # Given a running node
    # When its management API is asked who we are, and for an overview
    status, me = management_get(server, "/api/whoami")
    _, overview = management_get(server, "/api/overview")

    # Then our user is an administrator, guest (or a wrong password) is refused, and
    # every port of the node listens on loopback only
    assert status == 200
    assert me["name"] == server.user
    assert "administrator" in me["tags"]
    assert overview["node"] == server.node_name
    listeners = {listener["protocol"]: listener for listener in overview["listeners"]}
    assert listeners["amqp"]["port"] == server.amqp_port
    assert listeners["http"]["port"] == server.management_port
    assert management_get(server, "/api/whoami", user="guest", password="guest")[0] == 401
    assert management_get(server, "/api/whoami", password="not-the-password")[0] == 401
    # (the API reports the distribution listener as "::" whatever it is bound to: ask the kernel)
    for port in (server.amqp_port, server.management_port, server.dist_port):
        assert listening_addresses(port) == {LOOPBACK}, port
    assert listening_addresses(server.epmd_port) <= {LOOPBACK, "::1"}


def test_two_nodes_in_two_work_dirs_run_at_once(servers: list[RabbitMQServer]) -> None:
    # Given two nodes started at the same time, each in a work dir of its own
    server, other = servers

    # Then both run, on ports, epmds, node names, data dirs and credentials of their own
    assert server.running() and other.running()
    ports = lambda s: {s.amqp_port, s.management_port, s.dist_port, s.epmd_port}  # noqa: E731
    assert len(ports(server)) == len(ports(other)) == 4
    assert not ports(server) & ports(other)
    assert server.node_name != other.node_name
    assert server.root != other.root
    assert (server.user, server.password) != (other.user, other.password)
    for node in (server, other):
        with amqp_connection(node) as connection:
            connection.channel().queue_declare(f"ping-{uuid.uuid4().hex[:6]}", exclusive=True)
        assert management_get(node, "/api/whoami")[0] == 200
    # ...and one node's credentials do not open the other
    assert management_get(other, "/api/whoami", user=server.user, password=server.password)[0] == 401


def test_a_work_dir_keeps_its_credentials_private_and_its_node_name(server: RabbitMQServer) -> None:
    # Given a running node's work dir
    work_dir = server.root.parent

    # When another server object is made for the same work dir (as a restarted stack does)
    again = RabbitMQServer(work_dir)

    # Then it has the same node name and credentials, read from files only we can read,
    # and its data lives under the work dir
    assert (again.node_name, again.user, again.password) == (server.node_name, server.user, server.password)
    for private in (server.root / "credentials.json", server.root / "rabbitmq.conf"):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE((server.root / "home" / ".erlang.cookie").stat().st_mode) == 0o400
    assert (server.root / "data" / server.node_name).is_dir()
    # ...and it refuses other credentials for that data rather than failing every login
    with pytest.raises(ValueError, match="already holds a RabbitMQ database"):
        RabbitMQServer(work_dir, user="someone-else", password="x")


def test_a_missing_rabbitmq_server_is_named_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no rabbitmq-server where we look
    monkeypatch.setattr(rabbitmq_server, "SCRIPTS_DIR", tmp_path / "no-rabbitmq")

    # When a server is made
    with pytest.raises(BinaryNotFoundError) as missing:
        RabbitMQServer(tmp_path)

    # Then the error says what to run
    assert "local/tools/install-system-packages.sh" in str(missing.value)
