"""Public names of a package loaded on first use (PEP 562), so that importing the package stays cheap.

`wav2vec2` and `model_export` use it: `import wav2vec2.config` or `model_export.contract` does not import
TensorFlow (the gateway's settings, the CLI's help, docker/export-once.sh), and `from wav2vec2 import X` works
as with eager imports.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Returns the `__getattr__` and `__dir__` of `package`, which serve `exports` (public name → its module)."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module-level hook of PEP 562
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        namespace[name] = value  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
