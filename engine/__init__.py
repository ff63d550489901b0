"""The transcription engine: one model's assets, logits source, admission, chunking, decoding and transcripts.

Every door of the gateway (`service/`) and `asr transcribe` (`cli/`) call an `Engine`; the logits come from a
`LogitsSource` (`engine.sources`: in-process or TF Serving). Imports nothing of HTTP. The names below load on
first use (PEP 562), so importing the package stays cheap and never pulls TensorFlow by itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.engine import Engine, EngineDescription, build_engine
    from engine.sources import LogitsSource, SourceDescription, build_source

_HOMES = {
    "Engine": "engine.engine",
    "EngineDescription": "engine.engine",
    "build_engine": "engine.engine",
    "LogitsSource": "engine.sources",
    "SourceDescription": "engine.sources",
    "build_source": "engine.sources",
}
__all__ = ["Engine", "EngineDescription", "LogitsSource", "SourceDescription", "build_engine", "build_source"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
