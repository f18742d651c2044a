"""`bucket-ocr-local` / `python -m bucket_ocr_local`: the local event-driven stack.

Exit codes: 0 done, 1 a document or invocation failed, 2 usage or set-up error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bucket_ocr_local.errors import FunctionInvocationError, LocalStackError, StackNotRunningError
from bucket_ocr_local.runtimes import RUNTIMES
from bucket_ocr_local.spec import StackSpec
from bucket_ocr_local.stack import STORES, LocalStack, StackOptions
from bucket_ocr_local.supervisor import Supervisor


def default_work_dir() -> Path:
    # Beside the models and venv that local/run keeps in OCR_WORK_DIR (default ./.work).
    return Path(os.environ.get("OCR_WORK_DIR") or ".work") / "local"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bucket-ocr-local", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where stacks keep data, logs and results (default: $OCR_WORK_DIR/local or .work/local)",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="built models (default: $OCR_MODELS_DIR, else a shared cache; built on first use)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def stack_options(sub: argparse.ArgumentParser, *, store: bool = True) -> None:
        if store:
            sub.add_argument(
                "--store", choices=STORES, default="moto", help="moto (embedded, default) or a real MinIO server"
            )
        sub.add_argument("--workers", type=int, default=1, help="worker processes, one event at a time each")
        sub.add_argument(
            "--runtime",
            choices=RUNTIMES,
            default="in-process",
            help="run the function in the worker, or under awslambdaric + the Lambda Runtime Interface Emulator",
        )

    demo = commands.add_parser("demo", help="start the embedded stack, OCR sample documents, print a summary")
    stack_options(demo)
    demo.add_argument("--timeout", type=float, default=300)

    up = commands.add_parser("up", help="run a stack until Ctrl-C, printing endpoints and credentials")
    stack_options(up)

    drop = commands.add_parser("drop", help="upload files and wait for their results")
    drop.add_argument("files", nargs="+", type=Path)
    drop.add_argument("--prefix", default="", help="key prefix for the uploads")
    drop.add_argument("--timeout", type=float, default=300)
    stack_options(drop)

    results = commands.add_parser("results", help="list results, or show one")
    results.add_argument("key", nargs="?", help="a result key from the list, or the source key it was made from")

    dlq = commands.add_parser("dlq", help="list dead-letter records, or send them back")
    dlq.add_argument("--redrive", action="store_true", help="send every listed record back to the function")
    dlq.add_argument("--json", action="store_true", help="print the messages as JSON")

    backfill = commands.add_parser(
        "backfill", help="OCR objects already in a bucket: enqueue those without a result on the running stack"
    )
    backfill.add_argument("--bucket", default=None, help="default: the stack's input bucket")
    backfill.add_argument("--prefix", default="", help="only keys under this prefix")
    backfill.add_argument("--dry-run", action="store_true", help="count what would be enqueued, send nothing")
    backfill.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    invoke = commands.add_parser("invoke", help="run one event file through the function (like `sam local invoke -e`)")
    invoke.add_argument("--event", type=Path, required=True)
    invoke.add_argument("--runtime", choices=RUNTIMES, default="in-process")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    base = args.work_dir or default_work_dir()
    try:
        return COMMANDS[args.command](args, base)
    except LocalStackError as error:
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `... | head` closed our stdout: not an error of ours
        sys.stderr.close()
        return 0


def _options(args: argparse.Namespace, work_dir: Path, **overrides) -> StackOptions:
    fields = {
        "work_dir": work_dir,
        "store": getattr(args, "store", "moto"),
        "workers": getattr(args, "workers", 1),
        "runtime": getattr(args, "runtime", "in-process"),
        "models_dir": args.models_dir,
    }
    fields.update(overrides)
    return StackOptions(**fields)


def cmd_demo(args: argparse.Namespace, base: Path) -> int:
    from bucket_ocr_local.demo import run_demo

    return run_demo(_options(args, base / "demo"), timeout=args.timeout)


def cmd_up(args: argparse.Namespace, base: Path) -> int:
    work_dir = base / "stack"
    _refuse_second_stack(work_dir)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    with LocalStack(_options(args, work_dir)) as stack:
        _print_endpoints(stack)
        print("\nCtrl-C stops the stack (workers finish their current event first).", flush=True)
        # Workers that die are replaced and servers that stop are started again: one
        # crash must not take the stack, and the data it holds, down with it.
        with Supervisor(stack, report=lambda action: print(action, file=sys.stderr, flush=True)) as supervisor:
            while not stopped.wait(1):
                if supervisor.failure is not None:
                    print(f"error: {type(supervisor.failure).__name__}: {supervisor.failure}", file=sys.stderr)
                    return 1
        print("stopping...", flush=True)
    return 0


def _print_endpoints(stack: LocalStack) -> None:
    spec = stack.spec
    print(f"store         {spec.store}")
    print(f"S3 endpoint   {spec.s3_endpoint}")
    if spec.sqs_endpoint:
        print(f"SQS endpoint  {spec.sqs_endpoint}")
    print(f"access key    {spec.access_key}")
    print(f"secret key    {spec.secret_key}")
    print(f"region        {spec.region}")
    print(f"input bucket  {spec.input_bucket}")
    print(f"results       s3://{spec.results_bucket}/{spec.results_prefix}")
    if spec.events_queue_url:
        print(f"events queue  {spec.events_queue_url} (redrive after {spec.max_receive_count} receives)")
    if spec.broker_url:
        print(f"broker        {spec.broker_url} (management UI {spec.broker_management_url}, same user)")
        print(f"work queue    {spec.work_queue} (dead-lettered after {spec.delivery_limit} deliveries)")
    print(f"dead letters  {spec.dead_letter_queue_url}")
    print(f"workers       {len(stack.pool.workers) if stack.pool else 0} ({stack.options.runtime})")
    print(f"work dir      {spec.work_dir} (logs in logs/, stack.json for other tools)")
    print("\ntry:")
    print("  python -m bucket_ocr_local drop some-scan.pdf")
    print(
        f"  AWS_ACCESS_KEY_ID={spec.access_key} AWS_SECRET_ACCESS_KEY={spec.secret_key} "
        f"aws --endpoint-url {spec.s3_endpoint} s3 cp some-scan.pdf s3://{spec.input_bucket}/"
    )
    sys.stdout.flush()


def _refuse_second_stack(work_dir: Path) -> None:
    try:
        spec = StackSpec.load(work_dir)
    except StackNotRunningError:
        return
    if spec.is_live():
        raise LocalStackError(f"a stack is already running from {work_dir} (pid {spec.owner_pid}); stop it first")


def running_spec(base: Path) -> StackSpec:
    spec = StackSpec.load(base / "stack")
    if not spec.is_live():
        raise StackNotRunningError(f"the stack in {base / 'stack'} is not running; start one with `up`")
    return spec


@contextmanager
def some_stack(args: argparse.Namespace, base: Path, *, workers: int) -> Iterator[StackSpec]:
    """The running stack if there is one, else a throwaway embedded one for this command."""
    try:
        yield running_spec(base)
        return
    except StackNotRunningError:
        pass
    print("no running stack (`up`); starting a temporary one", file=sys.stderr)
    with LocalStack(_options(args, base / "scratch", workers=workers)) as stack:
        if stack.pool:
            stack.pool.wait_ready()
        yield stack.spec


def cmd_drop(args: argparse.Namespace, base: Path) -> int:
    from bucket_ocr_local.report import ProgressBar, outcomes_table
    from bucket_ocr_local.results import save_copies, wait_for_outcomes

    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        raise LocalStackError(f"not a file: {', '.join(missing)}")
    with some_stack(args, base, workers=args.workers) as spec:
        s3 = spec.client("s3")
        etags = {}
        for path in args.files:
            key = args.prefix + path.name
            etags[(spec.input_bucket, key)] = s3.put_object(Bucket=spec.input_bucket, Key=key, Body=path.read_bytes())[
                "ETag"
            ].strip('"')
        outcomes = wait_for_outcomes(
            spec, list(etags), timeout=args.timeout, on_progress=ProgressBar("processing"), etags=etags
        )
        copies = save_copies(spec, outcomes, Path(spec.work_dir) / "results")
    print(outcomes_table(outcomes))
    if copies:
        print(f"\nresult JSON copied under {Path(spec.work_dir) / 'results'}")
    return 0 if all(o.status == "succeeded" for o in outcomes) else 1


def cmd_results(args: argparse.Namespace, base: Path) -> int:
    from bucket_ocr_local.report import table
    from bucket_ocr_local.results import list_results, read_result

    spec = running_spec(base)
    if args.key:
        result_key = args.key if args.key.startswith(spec.results_prefix) else spec.result_key(args.key)
        document = read_result(spec, result_key)
        if document is None:
            print(f"no result at s3://{spec.results_bucket}/{result_key}", file=sys.stderr)
            return 1
        print(json.dumps(document, indent=1, ensure_ascii=False))
        return 0
    found = list_results(spec)
    print(table([(r["key"], r["size"], r["modified"]) for r in found], ("result key", "bytes", "modified")))
    return 0


def cmd_dlq(args: argparse.Namespace, base: Path) -> int:
    from bucket_ocr_local import dead_letters
    from bucket_ocr_local.report import table

    spec = running_spec(base)
    with dead_letters.open_box(spec) as box:
        letters = box.peek()
        if args.json:
            print(json.dumps([letter.body for letter in letters], indent=1, ensure_ascii=False))
        else:
            rows = [
                (
                    letter.kind,
                    letter.bucket,
                    letter.key,
                    letter.error_type,
                    letter.attempts,
                    (letter.error_message or "")[:60],
                )
                for letter in letters
            ]
            print(table(rows, ("kind", "bucket", "key", "error", "attempts", "message")))
        if args.redrive:
            sent = box.redrive(letters)
            print(f"\nsent {sent} of {len(letters)} back to the function", file=sys.stderr)
    return 0


def cmd_backfill(args: argparse.Namespace, base: Path) -> int:
    from bucket_ocr.backfill.cli import print_summary
    from bucket_ocr.backfill.run import ProgressBar
    from bucket_ocr_local.backfill import run

    spec = running_spec(base)
    progress = ProgressBar(enabled=not args.no_progress)
    try:
        summary = run(spec, bucket=args.bucket, prefix=args.prefix, dry_run=args.dry_run, progress=progress)
    finally:
        progress.close()
    print_summary(summary)
    return 1 if summary.failures else 0


def cmd_invoke(args: argparse.Namespace, base: Path) -> int:
    from bucket_ocr_local.runtimes import start_runtime

    try:
        event = json.loads(args.event.read_text())
    except (OSError, ValueError) as error:
        raise LocalStackError(f"cannot read the event file {args.event}: {error}") from error
    response_out = sys.stdout
    with some_stack(args, base, workers=0) as spec:
        # As `sam local invoke`: the response alone on stdout, the function's logs on
        # stderr. Powertools binds its handler to sys.stdout when the handler module is
        # imported, so stdout is swapped before that, not just around the call.
        sys.stdout = sys.stderr
        try:
            runtime = start_runtime(
                args.runtime, spec.function_environment(), work_dir=Path(spec.work_dir), name="invoke"
            )
            try:
                response, failed = runtime.invoke(event), False
            except FunctionInvocationError as error:
                response, failed = error.payload, True
            finally:
                runtime.close()
        finally:
            sys.stdout = response_out
    print(json.dumps(response, indent=1, ensure_ascii=False))
    return 1 if failed else 0


COMMANDS = {
    "demo": cmd_demo,
    "up": cmd_up,
    "drop": cmd_drop,
    "results": cmd_results,
    "dlq": cmd_dlq,
    "backfill": cmd_backfill,
    "invoke": cmd_invoke,
}


if __name__ == "__main__":
    sys.exit(main())
