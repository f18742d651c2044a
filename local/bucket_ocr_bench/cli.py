"""`python -m bucket_ocr_bench` (console script `bucket-ocr-bench`): run the benchmark.

Exit codes: 0 the run completed (whether targets were met is in the report), 1 the
benchmark could not run (named error on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bucket_ocr_bench import contestants as contest
from bucket_ocr_bench import cost, environment, once_per_run, outputs_cost, report, summary
from bucket_ocr_bench.corpus import EXTRA_KINDS, ROTATED, UPRIGHT, CorpusPage, build_corpus, check_kinds
from bucket_ocr_bench.errors import BenchError

DEFAULT_MODELS_DIR = Path(".work/models")
DEFAULT_OUT = Path(".work/bench")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bucket-ocr-bench", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where results.json/.md/.png and the corpus go")
    parser.add_argument(
        "--models-dir", type=Path, default=None, help="built bundles (default: $OCR_MODELS_DIR or .work/models)"
    )
    parser.add_argument("--pages", type=int, default=8, help="upright A4 corpus pages (cycle format x language x DPI)")
    parser.add_argument(
        "--kinds",
        default=",".join(EXTRA_KINDS),
        help=f"comma-separated page kinds besides upright A4, from {', '.join(EXTRA_KINDS)} ('none': A4 only)",
    )
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument(
        "--contestants", default=",".join(contest.ALL), help=f"comma-separated subset of {', '.join(contest.ALL)}"
    )
    parser.add_argument("--lambda-memory-mb", type=int, default=3008, help="configured function memory (template.yaml)")
    parser.add_argument("--cold-starts", type=int, default=3, help="fresh processes timed for the cold start")
    parser.add_argument(
        "--pdf-pages", type=int, default=20, help="pages of the PDF whose peak RSS is measured (0: skip)"
    )
    parser.add_argument(
        "--soak-pages", type=int, default=60, help="pages one warm instance reads for RSS growth (0: skip)"
    )
    parser.add_argument(
        "--throughput-pages", type=int, default=8, help="pages for pages/minute at 1 and 2 workers (0: skip)"
    )
    parser.add_argument(
        "--outputs-pages",
        type=int,
        default=None,
        help="upright pages whose function-path result is rendered to a searchable PDF and hOCR, timing the "
        "extra seconds a page (default: every upright page; 0: skip; needs the function path)",
    )
    parser.add_argument(
        "--no-function-path", action="store_true", help="skip the moto upload -> result path (and the outputs figure)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    environment.reexec_without_openblas_overrides(argv)
    # Powertools reads this at import; the function's one INFO line per document would
    # bury the benchmark's progress (the line is still built and costs what it costs).
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    try:
        written = run(args, log=lambda message: print(message, file=sys.stderr, flush=True))
    except BenchError as error:
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


def run(args: argparse.Namespace, log) -> list[Path]:
    started = time.perf_counter()
    models_dir = (args.models_dir or Path(os.environ.get("OCR_MODELS_DIR") or DEFAULT_MODELS_DIR)).resolve()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    names = [name.strip() for name in args.contestants.split(",") if name.strip()]
    unknown = set(names) - set(contest.ALL)
    if unknown:
        raise BenchError(f"unknown contestants {sorted(unknown)}; choose from {', '.join(contest.ALL)}")
    kinds = [kind.strip() for kind in args.kinds.split(",") if kind.strip() and kind.strip() != "none"]
    try:
        check_kinds(kinds)
    except ValueError as error:
        raise BenchError(str(error)) from error
    # The function's own settings, with the cache inside the output directory.
    function_env = {"OCR_CACHE_DIR": str(out / "function-cache")}
    child_env = _child_env()
    machine = environment.machine()

    log(f"corpus: {args.pages} upright A4 pages and kinds {', '.join(kinds) or 'none'}, seed {args.seed}")
    corpus = build_corpus(out / "corpus", args.pages, args.seed, kinds)
    a4 = corpus.only(UPRIGHT)  # what the once-per-run figures read, as in runs before other kinds

    from bucket_ocr_bench.engine_factory import function_settings, load_function_engine

    settings = function_settings(models_dir, function_env)
    _ensure_bundle(models_dir, settings.model_bundle)
    if contest.PADDLE_DEFAULTS in names:
        _ensure_bundle(models_dir, contest.PADDLE_DEFAULTS_BUNDLE)
    log("loading contestants")
    engine = load_function_engine(models_dir, function_env)
    loaded: list[contest.Contestant] = []
    if contest.TUNED in names:
        loaded.append(contest.ProjectEngine(engine))
    if contest.PADDLE_DEFAULTS in names:
        loaded.append(contest.PaddleDefaults(models_dir, contest.PADDLE_DEFAULTS_BUNDLE))
    if contest.TESSERACT in names:
        loaded.append(contest.Tesseract())

    from bucket_ocr_bench.function_path import MotoFunctionPath
    from bucket_ocr_bench.page_runs import engine_figures, function_figures

    log("per page, bare engines")
    figures = engine_figures(corpus, loaded, settings.pdf_dpi, log, reads=_reads)
    results: dict[str, dict[str, Any]] = {}  # the function path's result documents, by page id
    if not args.no_function_path:
        log("per page, full function path on a moto server")
        with MotoFunctionPath(engine, str(models_dir), {**os.environ, **function_env}) as path:
            figures += function_figures(corpus, path, contest.TUNED, log, results=results)
    del loaded  # free the in-process engines before measuring memory in children

    once: dict[str, Any] = {}
    if args.cold_starts > 0:
        log("cold start")
        once["cold_start"] = once_per_run.cold_start(models_dir, function_env, child_env, args.cold_starts)
    if args.pdf_pages > 0:
        log(f"peak RSS, {args.pdf_pages}-page PDF")
        once["pdf_memory"] = once_per_run.pdf_memory(a4, models_dir, function_env, child_env, args.pdf_pages)
    if args.soak_pages > 0:
        log(f"RSS growth over {args.soak_pages} pages")
        once["soak"] = once_per_run.soak(a4, models_dir, function_env, child_env, args.soak_pages)
    if args.throughput_pages > 0:
        log("throughput, 1 and 2 workers")
        once["throughput"] = once_per_run.throughput(a4, models_dir, function_env, child_env, args.throughput_pages)

    outputs_pages = len(a4.pages) if args.outputs_pages is None else min(args.outputs_pages, len(a4.pages))
    if outputs_pages > 0 and results:
        log(f"searchable PDF and hOCR of {outputs_pages} pages' results")
        rendered = replace(a4, pages=a4.pages[:outputs_pages])
        once["outputs"] = outputs_cost.summarise(outputs_cost.measure(rendered, results, log=log))
    elif outputs_pages > 0:
        log("no searchable PDF / hOCR figure: it renders the function path's results (--no-function-path)")

    stats = summary.aggregate(figures)
    overhead = summary.function_overhead(figures, contest.TUNED)
    costs = {
        label: cost.cost_per_1000_pages(item["median_seconds_per_page"], args.lambda_memory_mb)
        for label, item in stats.items()
    }
    function_label = f"{contest.TUNED} (function path)"
    measured = {
        "median_seconds_per_page_function": stats.get(function_label, {}).get("median_seconds_per_page"),
        "mean_cer_function": stats.get(function_label, {}).get("mean_cer"),
        "cold_start_seconds": (once.get("cold_start") or {}).get("median_cold_start_seconds"),
        "peak_rss_mb_20_page_pdf": (once.get("pdf_memory") or {}).get("peak_rss_mb"),
        "rss_growth_percent": (once.get("soak") or {}).get("growth_percent"),
        "function_overhead_percent": overhead["overhead_percent"] if overhead else None,
        "usd_per_1000_pages": costs.get(function_label, {}).get("usd_per_1000_pages"),
    }
    result = {
        "run": {
            "pages": len(a4.pages),
            "other_kind_pages": len(corpus.pages) - len(a4.pages),
            "kinds": kinds,
            "seed": corpus.seed,
            "seconds": time.perf_counter() - started,
            "corpus": str(corpus.directory),
            "soak_pages": args.soak_pages,
            "pdf_pages": args.pdf_pages,
            "outputs_pages": outputs_pages if results else 0,
        },
        "machine": machine,
        "contestants": {c.name: c.describe() for c in _described(engine, models_dir, settings, names)},
        "summary": stats,
        "by_kind": summary.by_kind(figures),
        "orientation": summary.orientation(figures, contest.TUNED),
        "kind_contestants": KIND_CONTESTANTS_MEANING,
        "function_overhead": overhead,
        "once_per_run": once,
        "cost": costs,
        "prices": costs[next(iter(costs))]["prices"] if costs else "",
        "targets": summary.judge(measured),
        "pages": [f.as_dict() for f in figures],
        "corpus": corpus.manifest()["pages"],
    }
    json_path, md_path, png_path = out / "results.json", out / "results.md", out / "results.png"
    report.write_json(json_path, result)
    md_path.write_text(report.markdown(result), encoding="utf-8")
    written = [json_path, md_path]
    if report.plot(png_path, result):
        written.append(png_path)
    else:
        log("matplotlib is not installed: no plot written")
    return written


KIND_CONTESTANTS_MEANING = (
    f"upright A4: every contestant; rotated: {contest.TUNED} and its function path only (the turns triple "
    f"the pages); column, receipt and skewed pages: every contestant but {contest.TESSERACT}, whose "
    "~17 s a page would double the run"
)


def _reads(contestant: contest.Contestant, page: CorpusPage) -> bool:
    if page.kind == UPRIGHT:
        return True
    if page.group == ROTATED:
        return contestant.name == contest.TUNED
    return contestant.name != contest.TESSERACT


def _described(engine, models_dir: Path, settings, names: list[str]):
    """Descriptions without keeping the heavy engines alive: cheap stand-ins where possible."""
    described = []
    if contest.TUNED in names:
        described.append(contest.ProjectEngine(engine))
    if contest.PADDLE_DEFAULTS in names:
        described.append(_PaddleDefaultsDescription(contest.PADDLE_DEFAULTS_BUNDLE))
    if contest.TESSERACT in names:
        described.append(contest.Tesseract())
    return described


class _PaddleDefaultsDescription:
    name = contest.PADDLE_DEFAULTS

    def __init__(self, bundle: str):
        self._bundle = bundle

    def describe(self) -> dict[str, Any]:
        return {"means": contest.PADDLE_DEFAULTS_MEANING, "bundle": self._bundle}


def _ensure_bundle(models_dir: Path, bundle: str) -> None:
    from bucket_ocr.models import BundleVerificationError, read_manifest

    try:
        read_manifest(models_dir / bundle)
    except BundleVerificationError as error:
        raise BenchError(f"{error} (or pass --models-dir)") from error


def _child_env() -> dict[str, str]:
    """Children import this package and the function from wherever this process did."""
    roots = {str(Path(__file__).resolve().parents[1])}
    import bucket_ocr

    roots.add(str(Path(bucket_ocr.__file__).resolve().parents[1]))
    existing = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*sorted(roots), *([existing] if existing else [])])}
