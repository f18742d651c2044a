"""boto3 clients, made after settings are read so the endpoint decides where they talk."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from bucket_ocr.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

# Standard retry mode backs off on throttling and 5xx before the function sees an error;
# path-style addressing is what MinIO and moto servers answer on a bare host:port.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, s3={"addressing_style": "path"})


def make_clients(settings: Settings, session: boto3.Session | None = None) -> tuple[S3Client, SQSClient]:
    session = session or boto3.Session()
    s3 = s3_client(settings.s3_endpoint_url, session)
    sqs = session.client("sqs", endpoint_url=settings.sqs_endpoint_url, config=_CONFIG)
    return s3, sqs


def s3_client(endpoint_url: str | None, session: boto3.Session | None = None) -> S3Client:
    return (session or boto3.Session()).client("s3", endpoint_url=endpoint_url, config=_CONFIG)
