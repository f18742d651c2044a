"""The failures the local stack names; each says what to do about it."""

from __future__ import annotations


class LocalStackError(Exception):
    """Base of everything the local tooling raises on purpose."""


class BinaryNotFoundError(LocalStackError):
    """A server binary (minio, aws-lambda-rie) is not installed where we look."""


class ServerStartError(LocalStackError):
    """A server process exited or never answered on its port."""


class StackNotRunningError(LocalStackError):
    """A command needs a running stack and found no live one."""


class ModelsBuildError(LocalStackError):
    """`bucket-ocr-models build` failed, so the function cannot load its engine."""


class FunctionInvocationError(LocalStackError):
    """The function ended an invocation with an error (Lambda's "Unhandled" error payload)."""

    def __init__(self, error_type: str, error_message: str, payload: dict | None = None):
        super().__init__(f"{error_type}: {error_message}")
        self.error_type = error_type
        self.error_message = error_message
        self.payload = payload or {"errorType": error_type, "errorMessage": error_message}


class WaitTimeoutError(LocalStackError):
    """A bounded wait ran out before every awaited thing happened."""


class StackLostError(LocalStackError):
    """A part of the stack died with data that cannot be brought back (moto's memory)."""
