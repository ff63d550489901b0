"""`asr wyoming`: speech-to-text for Home Assistant over the Wyoming protocol (docs/streaming.md)."""

from __future__ import annotations

import argparse
import logging

from cli.errors import input_errors
from cli.settings import (
    add_model_arguments,
    add_thread_arguments,
    load_tensorflow_to_serve,
    locate_models,
    settings_from_flags,
    use_models,
)

EPILOG = """examples:
  asr wyoming                                          # bundled demo model on tcp://127.0.0.1:10300
  asr wyoming --uri tcp://0.0.0.0:10300 --model exports/wav2vec2   # reachable from other hosts: no authentication
  asr wyoming --tfserving localhost:8500 --model-name wav2vec2 --language en
  asr wyoming --tfserving localhost:8500 --tfserving-config models.config   # every model TF Serving's file lists

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
    parser.add_argument(
        "--uri",
        default="tcp://127.0.0.1:10300",
        help="tcp://HOST:PORT, unix://PATH or stdio:// (default: loopback only; Wyoming has no authentication, so "
        "bind 0.0.0.0 only on a network you trust)",
    )
    add_model_arguments(
        parser,
        model_help="SavedModel dir (NAME/ or NAME/VERSION/), HF checkpoint dir or Hugging Face Hub id (exported "
        "once into ASR_MODEL_CACHE_DIR); default: bundled",
        model_name_help="model name in TF Serving and in Wyoming's info",
    )
    parser.add_argument("--language", help="the model's language, as ASR_LANGUAGE names it (default: english)")
    add_thread_arguments(parser)
    parser.set_defaults(func=run, loads_tensorflow_itself=True)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from engine.errors import ModelLoadError
    from service.logs import configure_logging
    from service.wyoming import serve_wyoming
    from service.wyoming.listener import InvalidUriError, ListenAddress

    with input_errors(InvalidUriError):
        ListenAddress.parse(args.uri)
    settings = settings_from_flags(args, language=args.language)
    configure_logging(json_lines=settings.log_json, level=logging.DEBUG if args.verbose else logging.INFO)
    located = locate_models(settings, model_flag_given=args.model is not None)
    load_tensorflow_to_serve(settings, located, args.verbose)
    settings = use_models(settings, located)
    try:
        with input_errors(ModelLoadError):
            asyncio.run(serve_wyoming(settings, args.uri))
    except KeyboardInterrupt:
        pass
    return 0
