import copy
import json
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from bucket_ocr.engine.text_line import PageReading, TextLine, Word
from bucket_ocr.errors import CorruptDocumentError
from bucket_ocr.events.records import ObjectRef
from bucket_ocr.results import document
from tests.support.result_checks import check_result
from tests.support.schema import result_validator

FIXTURES = Path(__file__).parent.parent / "fixtures" / "results"
ENGINE = {"name": "paddleocr", "packages": {"paddleocr": "3.7.0"}, "models": {"det": "d", "rec": "r"}, "language": "en"}
SOURCE = ObjectRef("in", "a b.png", etag="abc", size=10, content_type="image/png")


def a_line(text="Hola mundo", confidence=0.98765, box=(1, 2, 61, 12)):
    """A line whose words split its box in two halves, as the engine places them."""
    x0, y0, x1, y1 = box
    middle = (x0 + x1) / 2
    first, second = text.split(" ", 1)
    return TextLine(
        text=text,
        confidence=confidence,
        polygon=rectangle(x0, y0, x1, y1),
        words=(
            Word(first, confidence, rectangle(x0, y0, middle - 2, y1)),
            Word(second, confidence, rectangle(middle, y0, x1, y1)),
        ),
    )


def rectangle(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def a_page(reading=None, size=(100, 50), dpi=None):
    image = Image.new("RGB", size, "white")
    if dpi:
        image.info["dpi"] = dpi
    return document.page_result(0, image, reading or PageReading(lines=[a_line()]))


def a_succeeded_result(*pages):
    pages = pages or (a_page(), a_page())
    pages = [document.PageResult(**{**vars(page), "index": index}) for index, page in enumerate(pages)]
    return document.succeeded(
        SOURCE, ENGINE, document.Timings(0.1, 0.2, 0.3, 0.6), pages, "req-1", outputs=OUTPUTS, job_tag="batch-7"
    )


def fixture(name):
    return json.loads((FIXTURES / name).read_text("utf-8"))


OUTPUTS = {"json": "ocr/in/a b.png.json", "txt": "ocr/in/a b.png.txt"}


def test_succeeded_result_matches_the_published_schema():
    result = a_succeeded_result()
    check_result(result)
    assert result["schema_version"] == "1.1"
    assert result["text"] == "Hola mundo\n\nHola mundo"
    line = result["pages"][0]["lines"][0]
    assert line["confidence"] == 0.9877
    assert [word["text"] for word in line["words"]] == ["Hola", "mundo"]
    assert line["words"][1]["confidence"] == 0.9877
    assert (result["job_tag"], result["outputs"]) == ("batch-7", OUTPUTS)


def test_failed_result_matches_the_schema_and_names_the_error():
    error = CorruptDocumentError("bad bytes", bucket="in", key="a b.png")
    result = document.failed(SOURCE, ENGINE, document.Timings(), error, None, outputs={"json": OUTPUTS["json"]})
    check_result(result)
    assert result["error"] == {"type": "CorruptDocumentError", "message": "bad bytes (s3://in/a b.png)"}
    assert result["status"] == "failed" and result["pages"] == []


def test_normalised_geometry_is_the_pixels_over_the_page_size():
    # Given a 200 x 400 page with a line from (20, 100) to (150, 140)
    reading = PageReading(lines=[a_line(box=(20, 100, 150, 140))])
    # When it becomes a result, then each ratio is x over the width, y over the height
    line = a_page(reading, size=(200, 400)).as_dict()["lines"][0]
    assert line["bbox"] == [20.0, 100.0, 150.0, 140.0]
    assert line["bbox_normalized"] == [0.1, 0.25, 0.75, 0.35]
    assert line["polygon_normalized"] == [[0.1, 0.25], [0.75, 0.25], [0.75, 0.35], [0.1, 0.35]]
    assert line["words"][1]["bbox_normalized"] == [0.425, 0.25, 0.75, 0.35]


def test_ratios_are_rounded_to_six_decimals_from_the_rounded_pixels():
    line = a_page(PageReading(lines=[a_line(box=(1.04, 2, 61, 12))]), size=(3, 7)).as_dict()["lines"][0]
    assert line["bbox"][0] == 1.0 and line["bbox_normalized"][0] == 0.333333
    assert line["bbox_normalized"][1] == 0.285714


def test_geometry_reaching_past_the_page_stays_within_0_and_1_as_ratios():
    line = a_page(PageReading(lines=[a_line(box=(-3, 40, 130, 55))]), size=(100, 50)).as_dict()["lines"][0]
    assert line["bbox"] == [-3.0, 40.0, 130.0, 55.0]  # pixels as the engine gave them
    assert line["bbox_normalized"] == [0.0, 0.8, 1.0, 1.0]
    check_result(a_succeeded_result(a_page(PageReading(lines=[a_line(box=(-3, 40, 130, 55))]))))


def test_a_page_records_its_rotation_orientation_confidence_and_dpi():
    reading = PageReading(lines=[a_line()], rotation=270, orientation_confidence=0.912345)
    page = a_page(reading, dpi=(299.9994, 199.9996)).as_dict()
    assert (page["rotation"], page["orientation_confidence"], page["dpi"]) == (270, 0.9123, [300.0, 200.0])
    check_result(a_succeeded_result(a_page(reading, dpi=(299.9994, 199.9996))))


def test_a_page_without_stated_dpi_or_classified_orientation_says_so_with_null():
    page = a_page().as_dict()
    assert (page["rotation"], page["orientation_confidence"], page["dpi"]) == (0, None, None)


def test_a_line_read_without_words_has_an_empty_word_list():
    line = TextLine(text="Hola", confidence=0.9, polygon=rectangle(1, 2, 30, 12))
    result = a_succeeded_result(a_page(PageReading(lines=[line])))
    check_result(result)
    assert result["pages"][0]["lines"][0]["words"] == []


def test_a_word_outside_its_line_is_caught():
    stray = Word("Hola", 0.9, rectangle(70, 2, 90, 12))
    line = TextLine(text="Hola", confidence=0.9, polygon=rectangle(1, 2, 61, 12), words=(stray,))
    result = a_succeeded_result(a_page(PageReading(lines=[line])))
    with pytest.raises(AssertionError, match="outside its line"):
        check_result(result)


@pytest.mark.parametrize("name", ["result-1.0-two-page-letter.json", "result-1.0-corrupt-scan.json"])
def test_a_result_written_as_1_0_is_still_valid_under_the_1_1_schema(name):
    result_validator().validate(fixture(name))


def test_a_1_1_result_read_by_the_1_0_schema_keeps_every_1_0_field():
    # Given a 1.1 result, with every field 1.1 adds in use
    reading = PageReading(lines=[a_line()], rotation=90, orientation_confidence=0.97)
    result = a_succeeded_result(a_page(reading, dpi=(300.0, 300.0)))
    # When a reader of 1.0 keeps only the fields 1.0 knows
    schema_1_0 = fixture("result.schema.1.0.json")
    as_1_0 = {**known_to(schema_1_0, result), "schema_version": "1.0"}
    # Then what it keeps is a valid 1.0 document, with the values 1.0 wrote for them
    jsonschema.Draft202012Validator(schema_1_0, format_checker=jsonschema.FormatChecker()).validate(as_1_0)
    assert as_1_0["pages"][0]["lines"][0] == {
        "text": "Hola mundo",
        "confidence": 0.9877,
        "polygon": [[1.0, 2.0], [61.0, 2.0], [61.0, 12.0], [1.0, 12.0]],
        "bbox": [1.0, 2.0, 61.0, 12.0],
    }
    assert as_1_0["pages"][0]["width"] == 100 and as_1_0["text"] == result["text"]


def test_1_1_marks_every_field_it_adds_as_1_1_in_the_schema():
    schema_1_0, schema_1_1 = fixture("result.schema.1.0.json"), result_validator().schema
    page_1_0 = schema_1_0["properties"]["pages"]["items"]
    page_1_1, line_1_1 = schema_1_1["$defs"]["page"], schema_1_1["$defs"]["line"]
    line_1_0 = page_1_0["properties"]["lines"]["items"]
    for added, before, after in [
        (set(page_1_1["properties"]) - set(page_1_0["properties"]), page_1_0, page_1_1),
        (set(line_1_1["properties"]) - set(line_1_0["properties"]), line_1_0, line_1_1),
    ]:
        assert set(after["required"]) == set(before["required"]), "a 1.1 field must not be required of 1.0 documents"
        for name in added:
            definition = after["properties"][name]
            description = (
                definition.get("description") or schema_1_1["$defs"][definition["$ref"].split("/")[-1]]["description"]
            )
            assert description.startswith("(1.1)"), name


def known_to(schema, value):
    """``value`` with only the object members ``schema`` declares (a strict 1.0 reader's view)."""
    if isinstance(value, dict) and "properties" in schema:
        return {
            key: known_to(schema["properties"][key], item) for key, item in value.items() if key in schema["properties"]
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [known_to(schema["items"], item) for item in value]
    return value


@pytest.mark.parametrize(
    "breakage",
    [
        lambda r: r.pop("schema_version"),
        lambda r: r.update(status="done"),
        lambda r: r["pages"][0]["lines"][0].update(confidence=1.5),
        lambda r: r["pages"][0]["lines"][0].update(bbox=[1, 2, 3]),
        lambda r: r.update(error={"type": "Oops", "message": "x"}),
        lambda r: r["source"].pop("etag"),
        lambda r: r["pages"][0].update(rotation=45),
        lambda r: r["pages"][0].update(orientation_confidence=97),
        lambda r: r["pages"][0].update(dpi=[0, 300]),
        lambda r: r["pages"][0].pop("dpi"),
        lambda r: r["pages"][0]["lines"][0].pop("words"),
        lambda r: r["pages"][0]["lines"][0].update(bbox_normalized=[0.1, 0.2, 1.3, 0.4]),
        lambda r: r["pages"][0]["lines"][0]["words"][0].pop("polygon_normalized"),
        lambda r: r["pages"][0]["lines"][0]["words"][0].update(confidence=-0.1),
        lambda r: r["pages"][0]["lines"][0]["words"][0].update(angle=0),
        lambda r: r.pop("job_tag"),
        lambda r: r.update(job_tag="has spaces"),
        lambda r: r.update(outputs={"txt": "a.txt"}),
        lambda r: r["outputs"].update(docx="a.docx"),
    ],
)
def test_schema_rejects_broken_results(breakage):
    result = copy.deepcopy(a_succeeded_result())
    breakage(result)
    with pytest.raises(jsonschema.ValidationError):
        result_validator().validate(result)
