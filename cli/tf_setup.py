"""Loads TensorFlow for a subcommand with its start-up logs hidden, unless `asr --verbose` asks for them.

On a CPU-only machine TensorFlow's import prints a dozen native log lines (twice "Could not find cuda
drivers", and an error-level `E0000 ... failed call to cuInit` on first use) that alarm users and say nothing
about their command. `TF_CPP_MIN_LOG_LEVEL` silences most of it but only if set before the import, and the
lines logged while the shared libraries load (before `absl::InitializeLog()`) ignore it
(tensorflow/tensorflow#100442), so the import itself runs with the process's native stderr pointed at
/dev/null. Python errors are unaffected: they are raised as exceptions and printed after stderr is back.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from cli.errors import CommandError

# 3 hides TensorFlow's native INFO, WARNING and ERROR lines (the cuInit "error" included); real failures
# still reach the user as Python exceptions.
QUIET_NATIVE_LOG_LEVEL = "3"
FROZEN_WEIGHTS_VARIABLE = "TF_ONEDNN_ASSUME_FROZEN_WEIGHTS"


def load_tensorflow(verbose: bool, inference_only: bool = False) -> None:
    """Imports TensorFlow once, quietly unless `verbose`; later imports of it anywhere are then silent.

    `inference_only`: the command only runs models whose weights never change (serve, wyoming, transcribe).
    oneDNN then keeps each convolution's weights in its own blocked layout from the first call
    instead of converting them on every call (`TF_ONEDNN_ASSUME_FROZEN_WEIGHTS`, what Intel's model zoo sets for
    SavedModel inference): base model, 10 s of audio, two threads on a Xeon, 0.747 -> 0.669 s, logits unchanged.
    TensorFlow reads it once per process, at its first oneDNN op, and a process that trains must never have it
    (its convolutions would keep the first step's weights), so it is set only before TensorFlow is first imported,
    and a user's own value wins.
    """
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET_NATIVE_LOG_LEVEL)  # a user's own setting wins
    if "tensorflow" not in sys.modules:
        if inference_only:
            os.environ.setdefault(FROZEN_WEIGHTS_VARIABLE, "1")
        with _native_stderr_silenced(enabled=not verbose):
            try:
                import tensorflow  # noqa: F401
            except ModuleNotFoundError as error:
                if error.name != "tensorflow":
                    raise
                raise CommandError(
                    "running the model in-process or exporting a checkpoint needs TensorFlow, which this install "
                    "lacks (the slim gateway serves exported models with --tfserving HOST:PORT only); install the "
                    "full package: pip install wav2vec2-asr"
                ) from error
    # TensorFlow's Python side logs through the `tensorflow` and `absl` loggers (deprecations, SavedModel
    # tracing notes); the user sees them with --verbose only.
    level = logging.NOTSET if verbose else logging.ERROR
    for name in ("tensorflow", "absl"):
        logging.getLogger(name).setLevel(level)


@contextmanager
def _native_stderr_silenced(enabled: bool) -> Iterator[None]:
    """Points file descriptor 2 at /dev/null for the block, so C++ code loaded in it cannot write there."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved_fd = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
