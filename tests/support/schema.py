"""The published result schema, as a validator tests share."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema


def result_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files("bucket_ocr.results").joinpath("result.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
