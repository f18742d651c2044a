"""Structured logs, EMF metrics and X-Ray tracing, shared by the handler and the plain modules.

Powertools keeps one logger per service and one metric set per namespace, so every
module that imports these writes into the same JSON log line context and the same
metrics blob, flushed once per invocation by the handler.

The tracer turns itself off where no X-Ray daemon listens: outside Lambda (no
LAMBDA_TASK_ROOT: local runs, tests, the self-hosted workers), under `sam local` and with
POWERTOOLS_TRACE_DISABLED=true; its subsegments are then no-ops.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "bucket-ocr")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "BucketOcr")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


def count_failure(error_type: str) -> None:
    """One metric per failure type: its own blob, so the dimension stays off other metrics."""
    with single_metric(name="Failures", unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="error_type", value=error_type)


__all__ = ["MetricUnit", "count_failure", "logger", "metrics", "tracer"]
