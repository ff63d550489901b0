"""Runs one `asr` command line in this process, with the CPU split into N logical devices first.

`asr train --strategy mirrored` on a machine without GPUs mirrors over the logical CPUs; a process sees one
unless it is split before TensorFlow starts, so the tests that run the training commands as users type them
start them through this module. Usage:
    python -m tests.support.asr_on_cpus LOGICAL_CPUS train --pretrained ... --strategy mirrored ...
"""

from __future__ import annotations

import sys

from tests.support.test_process import configure_tensorflow


def main(logical_cpus: int, argv: list[str]) -> int:
    configure_tensorflow(logical_cpus)
    from cli.main import main as asr

    return asr(argv)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2:]))
