"""Runs `asr ARGS...` and, at exit, writes whether TensorFlow was imported (and from where) to a JSON report.

    python -m tests.support.tensorflow_watch REPORT.json serve --tfserving 127.0.0.1:8500 --model models/demo

The slim gateway (docs/deployment.md) has no TensorFlow installed; this runs the same `asr` in the full install
and says whether the process ever loaded it, so a test can start the gateway as users do and check it.
"""

from __future__ import annotations

import atexit
import importlib.abc
import json
import signal
import sys
import traceback
from pathlib import Path


class _FirstImport(importlib.abc.MetaPathFinder):
    """Records the stack of the first `import tensorflow`; finds nothing itself, so the import goes on."""

    def __init__(self) -> None:
        self.stack: str | None = None

    def find_spec(self, fullname, path, target=None):  # noqa: ANN001 - the MetaPathFinder protocol
        if fullname == "tensorflow" and self.stack is None:
            self.stack = "".join(traceback.format_stack()[:-1])
        return None


def main(argv: list[str]) -> int:
    report_path, asr_argv = Path(argv[0]), argv[1:]
    first_import = _FirstImport()
    sys.meta_path.insert(0, first_import)

    def write_report() -> None:
        imported = "tensorflow" in sys.modules
        report = {"tensorflow_imported": imported, "first_import": first_import.stack if imported else None}
        report_path.write_text(json.dumps(report))

    atexit.register(write_report)
    # uvicorn re-raises the SIGTERM it caught once it has shut down; with Python's default handler that kills the
    # process before atexit runs, so SIGTERM exits through SystemExit instead.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    from cli.main import main as asr

    return asr(asr_argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
