"""`asr`: the one command-line entry; each subcommand lives in its own module of this package.

The conventions every subcommand module follows (new ones too):

- It exposes `register(subparsers)`, which adds its parser (with `--help` examples that work) and sets
  `func=run`; add the module to `SUBCOMMAND_MODULES` below.
- Its top level imports nothing that imports TensorFlow (no `wav2vec2`, `model_export`, `service.main`,
  `training.trainer`, ...): those imports go inside `run`. `asr --help` and argument errors then answer in a
  fraction of a second; `tests/cli/test_main.py` checks that TensorFlow stays unloaded.
- `main` loads TensorFlow quietly (`cli.tf_setup`; `asr --verbose` shows its logs) before calling `run`. A
  command with cheap checks that should fail before that (`asr serve` checks its port) sets
  `loads_tensorflow_itself=True` and calls `cli.tf_setup.load_tensorflow(args.verbose)` after them.
- Usage and input errors raise `cli.errors.CommandError` (or wrap library calls in
  `cli.errors.input_errors(SomeLibraryError, ...)`): `main` prints `asr COMMAND: message` on stderr and exits
  2, like argparse does for a bad command line. Exit 1 means the command ran and its work failed; results go
  to stdout, diagnostics to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from cli.errors import EXIT_USAGE, CommandError
from cli.tf_setup import load_tensorflow

SUBCOMMAND_MODULES = (
    "cli.convert",
    "cli.export",
    "cli.serve",
    "cli.wyoming",
    "cli.transcribe",
    "cli.prepare",
    "cli.train",
    "cli.pretrain",
    "cli.eval",
    "cli.lm",
)


def build_parser() -> argparse.ArgumentParser:
    """Returns the `asr` parser with every subcommand registered (no TensorFlow import)."""
    parser = argparse.ArgumentParser(
        prog="asr",
        description="wav2vec 2.0 speech recognition: convert, export, serve, transcribe, train, evaluate.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level, TensorFlow's logs too")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    _record_prog_names(parser)
    return parser


def _record_prog_names(parser: argparse.ArgumentParser) -> None:
    """Sets `prog` ("asr lm build") as a default of every subparser: the innermost one parsed wins."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for subparser in action.choices.values():
            subparser.set_defaults(prog=subparser.prog)
            _record_prog_names(subparser)


def main(argv: list[str] | None = None) -> int:
    """Runs one `asr` command line; returns its exit status (argparse exits 2 by itself on bad usage)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if not getattr(args, "loads_tensorflow_itself", False):
            load_tensorflow(args.verbose, inference_only=getattr(args, "inference_only", False))
        return int(args.func(args) or 0)
    except CommandError as error:
        print(f"{args.prog}: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
