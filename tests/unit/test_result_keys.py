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


def test_result_key_is_deterministic():
    assert result_key_for("p/", "b", "k.png") == result_key_for("p/", "b", "k.png")


def test_control_characters_are_escaped():
    assert result_key_for("", "b", "tab\there.png") == "b/tab%09here.png.json"
