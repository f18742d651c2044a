"""The Lambda context tests hand the function: awslambdaric's own, built as the local runtimes build it."""

from __future__ import annotations

from bucket_ocr_local.runtimes.context import lambda_context

# The name the functional tests import; each call is one invocation's context starting now.
# New tests call ``lambda_context()``.
LambdaContext = lambda_context

__all__ = ["LambdaContext", "lambda_context"]
