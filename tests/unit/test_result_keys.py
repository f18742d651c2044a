import os
import subprocess
import sys

import pytest

from bucket_ocr.results.keys import result_key_for


def test_result_key_keeps_the_source_path_and_unicode():
    assert result_key_for("ocr/", "in", "scans/Señor Núñez a+b.pdf") == "ocr/in/scans/Señor Núñez a+b.pdf.json"


@pytest.mark.parametrize("key", ["../../etc/passwd", "a/../../b", "./x", "/abs/path", "a//b"])
def test_no_segment_can_climb_out_of_the_prefix(key):
    result = result_key_for("ocr/", "in", key)
    assert result.startswith("ocr/in/")
    segments = result.split("/")
    assert ".." not in segments and "." not in segments and "" not in segments


def test_distinct_keys_never_share_a_result():
    keys = ["..", "%2E%2E", "a/", "a/%00", "", "%00", "a%2Fb", "a/b"]
    results = {result_key_for("ocr/", "in", key) for key in keys}
    assert len(results) == len(keys)


KEYS_TO_PIN = ["k.png", "a/../b c+%.pdf", "x" * 1020]
PINNED = [
    "p/b/k.png.json",
    "p/b/a/%2E%2E/b c+%25.pdf.json",
    "p/b/" + "x" * (1024 - len("p/b/") - len("%~") - 32 - len(".json")) + "%~5d86b94a6e621abcb701867f130f52c4.json",
]


def test_result_key_is_deterministic_across_processes():
    # Given keys that are kept, escaped, and shortened with a hash
    # When their result keys are made here and in processes with other hash seeds
    script = f"from bucket_ocr.results.keys import result_key_for; print([result_key_for('p/', 'b', k) for k in {KEYS_TO_PIN!r}])"
    elsewhere = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    # Then every process makes the same keys, and they are the ones results were stored under
    assert elsewhere == {repr(PINNED)}
    assert [result_key_for("p/", "b", key) for key in KEYS_TO_PIN] == PINNED


def test_control_characters_are_escaped():
    assert result_key_for("", "b", "tab\there.png") == "b/tab%09here.png.json"


@pytest.mark.parametrize("key", ["x" * 1015, "%" * 400, "é" * 508, "a/" * 506 + "b", "%" * 339 + "é" * 5])
def test_a_key_that_escaping_takes_past_s3s_limit_is_shortened_to_fit(key):
    # given a legal source key whose result key would exceed 1,024 bytes
    assert len(key.encode()) <= 1024

    result = result_key_for("ocr/", "in", key)

    # then the result key fits, keeps its start and its suffix, and is cut between escapes
    assert len(result.encode()) <= 1024
    assert result.startswith("ocr/in/") and result.endswith(".json")
    head = result[: result.index("%~")]
    assert result_key_for("ocr/", "in", key, suffix="").startswith(head)


def test_shortened_keys_stay_one_to_one_and_never_meet_a_key_that_fits():
    # given long keys that differ only at the end, and a short key spelling a shortened one
    long_keys = ["x" * 1015 + "a", "x" * 1015 + "b"]
    shortened = [result_key_for("ocr/", "in", key) for key in long_keys]
    lookalike = shortened[0][len("ocr/in/") : -len(".json")]

    # then each long key has its own result, the same every time, and the short key another
    assert all("%~" in result for result in shortened) and len(set(shortened)) == 2
    assert shortened == [result_key_for("ocr/", "in", key) for key in long_keys]
    assert result_key_for("ocr/", "in", lookalike) not in shortened


def test_a_key_that_fits_is_not_shortened():
    key = "y" * (1024 - len("ocr/in/.json"))
    assert result_key_for("ocr/", "in", key) == f"ocr/in/{key}.json"
