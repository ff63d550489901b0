"""`asr`: the one command-line entry; each subcommand lives in its own module of this package."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Each module named here exposes `register(subparsers)`, which adds its subparser and sets `func`.
SUBCOMMAND_MODULES = (
    "cli.convert",
    "cli.export",
    "cli.serve",
    "cli.transcribe",
    "cli.prepare",
    "cli.train",
    "cli.pretrain",
    "cli.eval",
    "cli.lm",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asr",
        description="wav2vec 2.0 speech recognition: convert, export, serve, transcribe, train, evaluate.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
