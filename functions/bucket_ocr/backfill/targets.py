"""Where a backfill sends its events: the queue or function that new uploads reach.

One small class per kind, one interface: ``send(body)`` takes an event (buffered where the
service takes batches), ``close()`` sends what is buffered. Each counts what it
delivered and keeps what it could not, so the command can say so and exit non-zero;
nothing is retried blindly beyond what the clients already do, because a failed send is
cheap to redo by running the backfill again (what was delivered is then done or in flight).
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from bucket_ocr.errors import ConfigurationError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

    from bucket_ocr.amqp import Channel, Connection

# SendMessageBatch takes at most ten entries.
SQS_BATCH = 10


class BackfillTargetError(ConfigurationError):
    """A ``--to`` that names no target this command can send to."""


# An S3 notification, as events/synthetic.py builds it: JSON.
Body = dict[str, Any]


@dataclass(frozen=True)
class SendFailure:
    body: Body
    error: str


class Target:
    description = "target"

    def __init__(self) -> None:
        self.sent = 0
        self.failures: list[SendFailure] = []

    def send(self, body: Body) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Sends whatever is still buffered."""

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BufferedTarget(Target):
    """A target that sends in batches of ``batch_size``: ``_send_batch`` gets each batch."""

    batch_size = 1

    def __init__(self) -> None:
        super().__init__()
        self._buffer: list[Body] = []

    def send(self, body: Body) -> None:
        self._buffer.append(body)
        if len(self._buffer) >= self.batch_size:
            self._flush()

    def close(self) -> None:
        self._flush()

    def _flush(self) -> None:
        batch, self._buffer = self._buffer, []
        if batch:
            self._send_batch(batch)

    def _send_batch(self, batch: list[Body]) -> None:
        raise NotImplementedError


class SqsTarget(BufferedTarget):
    """An SQS queue the function consumes, as S3 → SQS → Lambda delivers uploads."""

    batch_size = SQS_BATCH

    def __init__(self, sqs: SQSClient, queue_url: str):
        super().__init__()
        self._sqs = sqs
        self._queue_url = queue_url
        self.description = f"SQS queue {queue_url}"

    def _send_batch(self, batch: list[Body]) -> None:
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(index), "MessageBody": json.dumps(body)} for index, body in enumerate(batch)
        ]
        try:
            response = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as error:
            # The service or the network refused this batch: it is counted, the next one may pass.
            self.failures.extend(SendFailure(body, f"{type(error).__name__}: {error}") for body in batch)
            return
        failed = {entry["Id"]: entry for entry in response.get("Failed", [])}
        for index, body in enumerate(batch):
            entry = failed.get(str(index))
            if entry is None:
                self.sent += 1
            else:
                self.failures.append(SendFailure(body, f"{entry.get('Code')}: {entry.get('Message')}"))


class LambdaTarget(Target):
    """The function itself, invoked asynchronously as S3 invokes it for an upload: Lambda's
    retries and on-failure destination apply as they do to S3's own invocations."""

    def __init__(self, lambda_client: LambdaClient, function_name: str):
        super().__init__()
        self._lambda = lambda_client
        self._function = function_name
        self.description = f"Lambda function {function_name} (asynchronous invocations)"

    def send(self, body: Body) -> None:
        try:
            response = self._lambda.invoke(
                FunctionName=self._function, InvocationType="Event", Payload=json.dumps(body).encode()
            )
        except (ClientError, BotoCoreError) as error:
            self.failures.append(SendFailure(body, f"{type(error).__name__}: {error}"))
            return
        if response.get("StatusCode") != 202:
            self.failures.append(SendFailure(body, f"invoke answered {response.get('StatusCode')}"))
        else:
            self.sent += 1


class AmqpTarget(Target):
    """A RabbitMQ queue the workers consume (``amqp://...?queue=ocr-work``), through the
    default exchange; persistent, mandatory and confirmed, so a message the broker did not
    take is counted as failed, not lost quietly."""

    def __init__(self, url: str):
        super().__init__()
        from bucket_ocr.amqp import parse_amqp_url

        self._address = parse_amqp_url(url, variable="--to", queue_required=True)
        self._queue = self._address.queue or ""  # required just above
        self._connection: Connection | None = None
        self._channel: Channel | None = None
        self.description = f"RabbitMQ queue {self._queue} on {self._address.redacted}"

    def send(self, body: Body) -> None:
        from bucket_ocr.amqp import not_taken_errors, publish_json, unavailable_errors

        try:
            publish_json(self._open(), body, exchange="", routing_key=self._queue, mandatory=True)
        except not_taken_errors() as error:
            self.failures.append(SendFailure(body, f"{type(error).__name__}: the broker did not take the message"))
            return
        except unavailable_errors() as error:
            self.failures.append(SendFailure(body, f"{type(error).__name__}: {error}"))
            self.close()  # the next send opens a fresh connection
            return
        self.sent += 1

    def _open(self) -> Channel:
        from bucket_ocr.amqp import connect

        if self._channel is None or not self._channel.is_open:
            self._connection = connect(self._address, name="bucket-ocr backfill")
            self._channel = self._connection.channel()
            self._channel.confirm_delivery()
        return self._channel

    def close(self) -> None:
        from bucket_ocr.amqp import unavailable_errors

        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            # A connection that broke while closing is closed enough: nothing is left to send.
            with contextlib.suppress(*unavailable_errors()):
                connection.close()


_SQS_HOST = re.compile(r"^sqs[.-](?P<region>[a-z0-9-]+)\.amazonaws\.com")


def target_for(to: str, *, session: boto3.Session | None = None) -> Target:
    """``sqs://<queue URL>``, ``lambda:<function name or ARN>`` or ``amqp(s)://...?queue=NAME``."""
    import boto3

    session = session or boto3.Session()
    if to.startswith(("amqp://", "amqps://")):
        return AmqpTarget(to)
    if to.startswith("lambda:"):
        function = to.removeprefix("lambda:")
        if not function:
            raise BackfillTargetError("lambda: needs a function name or ARN, e.g. lambda:bucket-ocr")
        arn = function.split(":")
        # An ARN names its region; the client must talk to that one.
        region = arn[3] if function.startswith("arn:") and len(arn) > 3 else None
        return LambdaTarget(session.client("lambda", region_name=region), function)
    if to.startswith("sqs://") or to.startswith("https://sqs"):
        return _sqs_target(to, session)
    raise BackfillTargetError(
        f"--to {to!r}: use sqs://<queue URL>, lambda:<function> or amqp://user:pass@host:5672/%2F?queue=NAME"
    )


def _sqs_target(to: str, session: boto3.Session) -> SqsTarget:
    rest = to.removeprefix("sqs://")
    url = rest if rest.startswith(("http://", "https://")) else f"https://{rest}"
    parts = urlsplit(url)
    if not parts.hostname or not parts.path.strip("/"):
        raise BackfillTargetError(f"--to {to!r}: not a queue URL (sqs://sqs.<region>.amazonaws.com/<account>/<queue>)")
    aws = _SQS_HOST.match(parts.hostname)
    if aws:
        client = session.client("sqs", region_name=aws.group("region"))
    else:
        # Not AWS (moto, LocalStack...): the queue URL's own host is the endpoint.
        client = session.client("sqs", endpoint_url=f"{parts.scheme}://{parts.netloc}")
    return SqsTarget(client, url)
