"""`asr wyoming`: speech-to-text for Home Assistant over the Wyoming protocol (docs/streaming.md)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from cli.lm import add_decoding_arguments, decoding_settings

EPILOG = """examples:
  asr wyoming                                          # bundled demo model on tcp://0.0.0.0:10300
  asr wyoming --uri tcp://0.0.0.0:10300 --model exports/wav2vec2
  asr wyoming --tfserving localhost:8500 --model-name wav2vec2 --language en

Then in Home Assistant: Settings -> Devices & services -> Add integration -> Wyoming Protocol, host and port 10300.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "wyoming",
        help="serve Home Assistant's Wyoming protocol (speech-to-text)",
        description="Answer Wyoming describe/transcribe/audio events with the embedded model or TF Serving.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--uri", default="tcp://0.0.0.0:10300", help="tcp://HOST:PORT, unix://PATH or stdio://")
    parser.add_argument("--model", type=Path, help="SavedModel dir (NAME/ or NAME/VERSION/); default: bundled")
    parser.add_argument("--tfserving", metavar="HOST:PORT", help="call TF Serving's gRPC API instead")
    parser.add_argument("--model-name", help="model name in TF Serving and in Wyoming's info")
    parser.add_argument("--language", help="the model's language, as ASR_LANGUAGE names it (default: english)")
    add_decoding_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from service import Settings
    from service.core.errors import ModelLoadError
    from service.logs import configure_logging
    from service.wyoming import serve_wyoming

    flags = {
        "model_path": args.model,
        "tfserving_address": args.tfserving,
        "model_name": args.model_name,
        "language": args.language,
    }
    flags = {name: value for name, value in flags.items() if value is not None}
    settings = Settings(**flags, **decoding_settings(args))
    configure_logging(json_lines=settings.log_json, level=logging.DEBUG if args.verbose else logging.INFO)
    try:
        asyncio.run(serve_wyoming(settings, args.uri))
    except ModelLoadError as error:
        print(f"asr wyoming: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
