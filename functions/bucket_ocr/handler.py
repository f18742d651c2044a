"""The Lambda entry point: ``bucket_ocr.handler.lambda_handler``.

Module import is Lambda's init phase, so settings are validated and the engine loaded
here, once per instance, before the first event is billed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bucket_ocr.app import create_app
from bucket_ocr.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

app = create_app()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.handle(event, context)
