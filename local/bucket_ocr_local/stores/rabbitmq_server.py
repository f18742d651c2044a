"""A RabbitMQ node of our own: its ports, data, cookie and epmd, never the system service.

Debian's `rabbitmq-server` package (3.10 on bookworm) provides the broker. Its wrapper
/usr/sbin/rabbitmq-server switches root to the `rabbitmq` user in /var/lib/rabbitmq (and
refuses any other user), so we run the real script, /usr/lib/rabbitmq/bin/rabbitmq-server,
as whoever we are (root in CI, a developer's own user: both work), with every path, port
and name given through RABBITMQ_* variables and a rabbitmq.conf of our own: nothing under
/etc/rabbitmq is read.

Everything lives under ``<work_dir>/rabbitmq/``: rabbitmq.conf, enabled_plugins, a HOME
holding the node's .erlang.cookie, the mnesia/quorum data (data/), the node's own log
files (logs/) and the credentials. Its console (boot banner, warnings, a failed boot's
reason) goes to ``<work_dir>/logs/rabbitmq.log`` beside the stack's other logs.

Four ports are chosen once per instance and kept across stop/start: AMQP, management
HTTP, Erlang distribution, and an epmd of the node's own (its ERL_EPMD_PORT), so nodes of
parallel test sessions never register in a shared epmd. We run that epmd ourselves, in the
foreground: it stops with the node instead of living on as a daemon that the process
group's kill misses (erl daemonises the epmd it starts). A restarted node answers
where clients point and reopens the same data, so durable queues and persistent messages
survive it. Every listener is bound to 127.0.0.1.

To look inside a running node, run the CLI with the node's environment (its HOME holds the
cookie, ERL_EPMD_PORT finds it): ``subprocess.run(["/usr/lib/rabbitmq/bin/rabbitmqctl",
"--node", server.node_name, "list_queues"], env=server.env)``.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import socket
import urllib.parse
from pathlib import Path

from bucket_ocr_local.errors import BinaryNotFoundError, ServerStartError
from bucket_ocr_local.processes import LOOPBACK, ManagedProcess, free_port, port_open, wait_for

SCRIPTS_DIR = Path(os.environ.get("RABBITMQ_SCRIPTS_DIR", "/usr/lib/rabbitmq/bin"))
INSTALL_HINT = "run `bash local/tools/install-system-packages.sh` (installs Debian's rabbitmq-server)"
PLUGINS = ("rabbitmq_management",)
VHOST = "/"
STABLE_PORTS_FROM = 20000  # the nodes' ports: from here up to the kernel's ephemeral range


def rabbitmq_server_binary() -> Path:
    """The broker's real start script (not Debian's su wrapper), or a named error."""
    script = SCRIPTS_DIR / "rabbitmq-server"
    if script.is_file() and os.access(script, os.X_OK) and shutil.which("epmd"):
        return script
    raise BinaryNotFoundError(f"rabbitmq-server not found (looked at {script}, and for epmd on PATH); {INSTALL_HINT}")


def credentials(work_dir: Path, user: str | None = None, password: str | None = None) -> tuple[str, str]:
    """The node's credentials, random unless given, kept (0600) so a restart opens the same data.

    A work dir whose database was made for other credentials refuses new ones: the node
    would boot and then reject every login.
    """
    path = work_dir / "rabbitmq" / "credentials.json"
    if path.exists():
        saved = json.loads(path.read_text())
        if (user and user != saved["user"]) or (password and password != saved["password"]):
            raise ValueError(
                f"{work_dir} already holds a RabbitMQ database for user {saved['user']!r}; pass no credentials or the same ones, or use another work dir"
            )
        return saved["user"], saved["password"]
    path.parent.mkdir(parents=True, exist_ok=True)
    user, password = user or "ocr-" + secrets.token_hex(4), password or secrets.token_urlsafe(24)
    _write_private(path, json.dumps({"user": user, "password": password}))
    return user, password


class RabbitMQServer:
    def __init__(self, work_dir: Path, *, user: str | None = None, password: str | None = None):
        script = rabbitmq_server_binary()
        self.root = (work_dir / "rabbitmq").resolve()
        for sub in ("home", "data", "logs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.user, self.password = credentials(work_dir, user, password)
        self.node_name = _node_name(self.root)
        self.amqp_port, self.management_port, self.dist_port, self.epmd_port = _listen_ports(4)
        self.env = self._environment()
        self.epmd = ManagedProcess(
            "rabbitmq-epmd",
            [shutil.which("epmd") or "epmd", "-port", str(self.epmd_port), "-address", LOOPBACK],
            log_path=self.root / "logs" / "epmd.log",
            env=self.env,
        )
        self.process = ManagedProcess(
            "rabbitmq", [str(script)], log_path=work_dir / "logs" / "rabbitmq.log", env=self.env, cwd=self.root
        )

    # ---- addresses -----------------------------------------------------------------

    @property
    def url(self) -> str:
        quote = urllib.parse.quote
        vhost = quote(VHOST, safe="")
        return f"amqp://{quote(self.user, safe='')}:{quote(self.password, safe='')}@{LOOPBACK}:{self.amqp_port}/{vhost}"

    @property
    def management_url(self) -> str:
        return f"http://{LOOPBACK}:{self.management_port}"

    @property
    def ports(self) -> tuple[int, int, int, int]:
        """AMQP, management HTTP, Erlang distribution and epmd: all on 127.0.0.1."""
        return self.amqp_port, self.management_port, self.dist_port, self.epmd_port

    # ---- life cycle ----------------------------------------------------------------

    def start(self, timeout: float = 120) -> RabbitMQServer:
        """Start the node; return once it accepts an AMQP login with our credentials."""
        if self.running():
            return self
        for port in self.ports:
            if not _bindable(port):
                raise ServerStartError(
                    f"rabbitmq: {LOOPBACK}:{port} is taken by another process; cannot start the node there"
                )
        # Written at each start, by the object that starts the node: another object for
        # the same work dir (other ports) must not leave its ports in our next boot.
        self._write_config()
        self.epmd.start()
        try:
            self.epmd.wait_until(
                lambda: port_open(self.epmd_port), timeout=10, what=f"listening on {LOOPBACK}:{self.epmd_port}"
            )
            self.process.start()
            self.process.wait_until(
                self._accepts_login, timeout=timeout, what=f"accepting AMQP logins on {LOOPBACK}:{self.amqp_port}"
            )
        except BaseException:  # Ctrl-C during a start too: end the processes, then let it through
            self._end_processes(grace=5)
            raise
        return self

    def stop(self, grace: float = 30) -> None:
        """Graceful first (SIGTERM: queues, message stores and logs closed), SIGKILL after ``grace`` s.

        A graceful stop takes about 6 s with the management plugin: 3.10's management
        agent blocks the shutdown until a 5 s supervisor timeout ends it.
        """
        self._end_processes(grace=grace)
        # The VM may outlive its script by a moment: return once nothing listens on our
        # ports, so a start right after finds them free.
        wait_for(
            lambda: not any(port_open(port) for port in self.ports), timeout=10, what="the rabbitmq ports to close"
        )

    def restart(self, timeout: float = 120) -> RabbitMQServer:
        self.stop()
        return self.start(timeout=timeout)

    def running(self) -> bool:
        return self.process.running()

    # ---- internals -----------------------------------------------------------------

    def _end_processes(self, grace: float) -> None:
        self.process.stop(grace=grace)
        self.epmd.stop(grace=5)

    def _accepts_login(self) -> bool:
        if not port_open(self.amqp_port):
            return False
        import pika  # imported here: the module (and the stack's other modes) load without it

        parameters = pika.URLParameters(self.url)
        parameters.connection_attempts = 1
        parameters.socket_timeout = 2
        parameters.blocked_connection_timeout = 2
        try:
            connection = pika.BlockingConnection(parameters)
        except pika.exceptions.AMQPError:
            return False
        connection.close()
        return True

    def _write_config(self) -> None:
        root = self.root
        cookie = root / "home" / ".erlang.cookie"
        if not cookie.exists():
            # Erlang refuses a cookie file that others can read.
            _write_private(cookie, secrets.token_hex(20).upper(), mode=0o400)
        (root / "enabled_plugins").write_text("[" + ",".join(PLUGINS) + "].\n")
        settings = [
            f"listeners.tcp.1 = {LOOPBACK}:{self.amqp_port}",
            f"management.tcp.ip = {LOOPBACK}",
            f"management.tcp.port = {self.management_port}",
            # The user of the first boot (an empty database); later boots keep the users
            # the database has, the same ones since credentials.json is kept. No guest.
            f"default_user = {self.user}",
            f"default_pass = {self.password}",
            f"default_vhost = {VHOST}",
            "default_user_tags.administrator = true",
            "default_permissions.configure = .*",
            "default_permissions.read = .*",
            "default_permissions.write = .*",
            "loopback_users = none",
            "log.file.level = info",
            "log.console = true",
            "log.console.level = warning",
            "log.console.use_colors = off",
            # A developer's disk with less than the default 50 MB free would block every
            # publisher; what the stack and tests publish is tiny.
            "disk_free_limit.absolute = 1MB",
        ]
        _write_private(root / "rabbitmq.conf", "\n".join(settings) + "\n")

    def _environment(self) -> dict[str, str]:
        root = self.root
        loopback_dist = "-kernel inet_dist_use_interface {127,0,0,1}"
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root / "home"),  # .erlang.cookie, for the node and rabbitmqctl
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "RABBITMQ_NODENAME": self.node_name,
            "RABBITMQ_NODE_IP_ADDRESS": LOOPBACK,
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": LOOPBACK,
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": loopback_dist,
            "RABBITMQ_CTL_ERL_ARGS": loopback_dist,
            # Ours, and missing files where we want none: /etc/rabbitmq is never read.
            "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_CONFIG_FILES": str(root / "conf.d" / "*.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(root / "advanced.config"),
            "RABBITMQ_MOTD_FILE": str(root / "motd"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(root / "data"),
            "RABBITMQ_MNESIA_DIR": str(root / "data" / self.node_name),
            "RABBITMQ_LOG_BASE": str(root / "logs"),
            "RABBITMQ_PID_FILE": str(root / "rabbitmq.pid"),
            "ERL_CRASH_DUMP": str(root / "logs" / "erl_crash.dump"),
        }


def _node_name(root: Path) -> str:
    """One name per data dir, kept: mnesia's data belongs to the node that made it."""
    path = root / "nodename"
    if not path.exists():
        path.write_text(f"ocr-{secrets.token_hex(6)}@localhost\n")
    return path.read_text().strip()


_handed_out: set[int] = set()  # ports this process gave to a node already


def _listen_ports(count: int) -> list[int]:
    """Ports for a node, kept for its life: below the kernel's ephemeral range when it can.

    free_port() draws from the ephemeral range, and so does every outgoing connection on
    the machine: while a node is stopped (a test stops one for 20 s), a client's
    connection could take one of its ports and the restart would fail. Below that range
    no connection is given a port; a random pick, a bind test and the ports this process
    already handed out keep parallel nodes apart. free_port() is the fallback.
    """
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 0
    ports: list[int] = []
    for _ in range(100 * count):
        if len(ports) == count:
            break
        port = random.randrange(STABLE_PORTS_FROM, low) if low - STABLE_PORTS_FROM >= 1000 else free_port()
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            ports.append(port)
    while len(ports) < count:
        port = free_port()
        if port not in _handed_out:
            _handed_out.add(port)
            ports.append(port)
    return ports


def _bindable(port: int) -> bool:
    """Could a listener bind 127.0.0.1:port now? (SO_REUSEADDR, as Erlang binds: a
    TIME_WAIT left by our own last run does not count, a listener or a client does.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Write a file readable by its owner only, from its creation on."""
    if path.exists():
        path.chmod(0o600)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    path.chmod(mode)
