"""Shared by every tier.

Credentials are fake and set before any client exists, so no test can ever reach a real
AWS account, whatever the machine's own configuration says.
"""

import os
from pathlib import Path

import pytest

for name, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "BucketOcrTests",
    "POWERTOOLS_DEV": "false",
}.items():
    os.environ[name] = value
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session")
def built_models_dir() -> Path:
    """The session's one models dir, for every tier that loads real models.

    Every bundle is built into it once: in OCR_MODELS_DIR when set (`local/run test` has
    built the default bundle there, so building it again returns at once unless its
    recipe changed), else in the machine's models cache, as the local stack uses.
    """
    from bucket_ocr.models import BUNDLES, build_bundle
    from bucket_ocr_local.models_cache import default_models_dir

    dest = Path(os.environ.get("OCR_MODELS_DIR") or default_models_dir())
    for name in sorted(BUNDLES):
        build_bundle(name, dest)
    return dest
