"""Where the harness finds the Go servers install-servers.sh builds."""

from __future__ import annotations

import pytest

from bucket_ocr_local.binaries import cache_dir, find_binary
from bucket_ocr_local.errors import BinaryNotFoundError
from bucket_ocr_soak.errors import ToxiproxyNotFoundError
from bucket_ocr_soak.toxiproxy import toxiproxy_binary

VARIABLES = ("MINIO_BIN", "RIE_BIN", "TOXIPROXY_BIN", "OCR_TOOLS_CACHE", "XDG_CACHE_HOME")


@pytest.fixture(autouse=True)
def no_configuration(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def executable(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_the_cache_is_named_after_the_project_under_the_users_cache(monkeypatch, tmp_path):
    # Given a user cache directory
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    # Then the tools live under bucket-ocr/bin there, as install-servers.sh puts them
    assert cache_dir() == tmp_path / "bucket-ocr" / "bin"


def test_ocr_tools_cache_overrides_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("OCR_TOOLS_CACHE", str(tmp_path / "tools"))
    assert cache_dir() == tmp_path / "tools"


def test_the_variable_wins_over_the_cache_and_each_server_is_found(monkeypatch, tmp_path):
    # Given every server in the cache, and the emulator also where RIE_BIN points
    monkeypatch.setenv("OCR_TOOLS_CACHE", str(tmp_path / "cache"))
    for name in ("minio", "aws-lambda-rie", "toxiproxy-server"):
        executable(tmp_path / "cache" / name)
    mine = executable(tmp_path / "mine" / "rie")
    monkeypatch.setenv("RIE_BIN", str(mine))

    # Then the variable's is used, and the others come from the cache
    assert find_binary("aws-lambda-rie") == mine
    assert find_binary("minio") == tmp_path / "cache" / "minio"
    assert toxiproxy_binary() == tmp_path / "cache" / "toxiproxy-server"


def test_a_missing_server_names_where_it_looked_and_how_to_build_it(monkeypatch, tmp_path):
    # Given an empty cache
    monkeypatch.setenv("OCR_TOOLS_CACHE", str(tmp_path))
    # Then looking for a server fails, saying where it looked and how to build it
    with pytest.raises(BinaryNotFoundError, match=r"install-servers\.sh.*MINIO_BIN") as missing:
        find_binary("minio")
    assert str(tmp_path / "minio") in str(missing.value)
    # and Toxiproxy's own error says the same
    with pytest.raises(ToxiproxyNotFoundError, match="TOXIPROXY_BIN"):
        toxiproxy_binary()
