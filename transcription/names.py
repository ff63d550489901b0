"""The names users type: decoders and response formats, the one list every door and the CLI check against.

Only `typing` here: `asr --help` and the slim gateway import these names, and must not load NumPy or the decoders
to list them.
"""

from __future__ import annotations

from typing import Literal, get_args

# A pydantic field or a FastAPI parameter that takes a decoder or a format is typed with these `Literal`s (a
# `Literal` cannot be built from a tuple at run time, so the tuples are read off the `Literal`s).
DecoderName = Literal["greedy", "lm"]
GREEDY, LANGUAGE_MODEL = DECODER_NAMES = get_args(DecoderName)

ResponseFormat = Literal["json", "text", "verbose_json", "srt", "vtt"]
RESPONSE_FORMATS: tuple[str, ...] = get_args(ResponseFormat)
