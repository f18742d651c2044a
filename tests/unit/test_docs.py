"""The README is a front door, and every performance figure in the docs comes from one report.

`docs/benchmark-report.md` is the `results.md` of a `local/run bench` run, committed
verbatim. A *figure* is a number written in `README.md`, `docs/*.md` (the report aside)
or `template.yaml`'s comments (the text after `#`) in one of these forms:

1. anywhere, per page, throughput or cost: `N s/page`, `N s a page`, `N s per page`,
   `N seconds a page`, `N ms a page`, `N pages/minute`, `N pages per minute`,
   `$N per 1,000 pages`;
2. on a line that names a benchmark measure (`cold start`, `RSS`, `CER`, `peak`, `A4`,
   `a page`, `per page`, `each page`): every number with a unit s, seconds, ms, MB, GB,
   MiB, GiB or %;
3. in `docs/benchmark.md`, the report's companion page: every number with one of those units.

A range `a–b` is two figures. Each figure must be a number of the report as written there
(`~`, a sign and thousands separators aside): `0.92` does not match `0.917`. Limits, ports,
timeouts and defaults are written without these forms, so they are not figures; the
soak's numbers come from its own report, quoted in `docs/soak.md`, in none of these forms.

To replace the report: `docs/benchmark.md`, "Replacing the report".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
REPORT = DOCS / "benchmark-report.md"
TEMPLATE = ROOT / "template.yaml"
README_MAX_LINES = 100

_NUMBER = r"[-+−]?~?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_RANGE = rf"(?P<a>{_NUMBER})(?:\s*(?:–|-|to)\s*(?P<b>{_NUMBER}))?"
_UNIT = r"\s*(?:s|seconds|ms|MB|GB|MiB|GiB|%)(?![\w/])"
PER_PAGE = [
    re.compile(rf"{_RANGE}\s*(?:s|seconds|ms)(?:/page|\s+(?:a|per)\s+page)\b"),
    re.compile(rf"{_RANGE}\s*pages(?:/minute|\s+(?:a|per)\s+minute)\b"),
    re.compile(rf"\$(?P<a>{_NUMBER})(?:\s*(?:–|-|to)\s*\$?(?P<b>{_NUMBER}))?\s+per\s+1,000\s+pages"),
]
WITH_UNIT = re.compile(rf"{_RANGE}{_UNIT}")
MEASURE = re.compile(r"cold start|\bRSS\b|\bCER\b|\bpeak|\bA4\b|\b(?:a|per|each) page\b", re.I)


def _plain(number: str) -> str:
    return number.lstrip("-+−~").replace(",", "")


def figures(line: str, *, every_unit: bool = False) -> list[str]:
    """The figures of one line, by the rules of the module docstring."""
    patterns = [*PER_PAGE]
    if every_unit or MEASURE.search(line):
        patterns.append(WITH_UNIT)
    found = []
    for pattern in patterns:
        for match in pattern.finditer(line):
            found += [_plain(n) for n in match.group("a", "b") if n]
    return found


def report_numbers() -> set[str]:
    return {_plain(n) for n in re.findall(_NUMBER, REPORT.read_text())}


def documented_lines() -> list[tuple[str, int, str, bool]]:
    """(file, line number, text, every unit counts) for the README, docs and template comments."""
    lines = []
    for path in [README, *sorted(DOCS.glob("*.md"))]:
        if path == REPORT:
            continue
        every_unit = path.name == "benchmark.md"
        for number, text in enumerate(path.read_text().splitlines(), 1):
            lines.append((str(path.relative_to(ROOT)), number, text, every_unit))
    for number, text in enumerate(TEMPLATE.read_text().splitlines(), 1):
        if "#" in text:
            lines.append(("template.yaml", number, text.split("#", 1)[1], False))
    return lines


def test_every_performance_figure_in_the_docs_is_a_number_of_the_benchmark_report():
    # Given the one generated report
    assert REPORT.read_text().startswith("## bucket-ocr benchmark"), "docs/benchmark-report.md is not a bench report"
    known = report_numbers()
    # When every figure of the README, docs and template comments is looked up in it
    stale = [
        f"{name}:{number}: {figure} ({text.strip()})"
        for name, number, text, every_unit in documented_lines()
        for figure in figures(text, every_unit=every_unit)
        if figure not in known
    ]
    # Then none is missing: each was copied from the report, or is a link to it instead
    assert stale == [], "figures not in docs/benchmark-report.md:\n" + "\n".join(stale)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # The stale sentences issue #14 found, each must be caught by the rules
        ("a 40-line A4 page takes ~3.2–3.7 s on 2 cores; count on about 4 s a page", ["4", "3.2", "3.7", "4"]),
        ("keep `MaxPages` × ~4 s plus ~10 s of cold start within the timeout", ["4", "10"]),
        (
            "# ~3.6 s per 40-line A4 page on 2 cores, ~0.5 GB for a warm instance and a ~1.0 GB peak",
            ["3.6", "0.5", "1.0"],
        ),
        ("| pages/minute, 1 worker × 2 threads | 69.2 |", []),
        ("at 69.2 pages/minute and $0.045 per 1,000 pages", ["69.2", "0.045"]),
        ("cold start ≤ 2 s: 1.83–2.01 s across runs", ["2", "1.83", "2.01"]),
        # and what is configuration is not a figure
        ("`OCR_CLAIM_WAIT_SECONDS` | `300` | waits 300 s before raising", []),
    ],
)
def test_the_figure_rules_catch_the_issues_stale_sentences(line, expected):
    assert figures(line) == expected


def test_the_readme_fits_on_two_screens_and_gives_the_two_commands():
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; the manual belongs in docs/"
    commands = {line.split("#")[0].strip() for line in lines}
    assert {"local/run demo", "local/run test"} <= commands


_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    # GitHub's: lower case, punctuation but hyphens dropped, spaces to hyphens
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_anchor(line.lstrip("#")) for line in path.read_text().splitlines() if re.match(r"#{1,6} ", line)}


def test_every_relative_link_in_the_readme_and_docs_resolves():
    broken = []
    for path in [README, *sorted(DOCS.glob("*.md"))]:
        for target in _LINK.findall(path.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            resolved = (path.parent / file).resolve() if file else path
            if not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{path.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_every_setting_the_function_reads_is_in_the_settings_reference():
    # Given every OCR_* variable named in the function's code
    code = "\n".join(p.read_text() for p in (ROOT / "functions" / "bucket_ocr").rglob("*.py"))
    variables = set(re.findall(r"[\"'](OCR_[A-Z0-9_]+)[\"']", code))
    assert len(variables) > 20
    # Then docs/function.md names each
    reference = (DOCS / "function.md").read_text()
    assert sorted(v for v in variables if f"`{v}`" not in reference) == []
