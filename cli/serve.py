"""`asr serve`: the HTTP gateway under uvicorn, with the model in-process or in TensorFlow Serving."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from cli.lm import add_decoding_arguments, decoding_settings

EPILOG = """examples:
  asr serve                                   # the bundled demo model, in-process, on 127.0.0.1:8000
  asr serve --model exports/wav2vec2 --port 8080
  asr serve --tfserving localhost:8500 --model-name wav2vec2
  asr serve --model exports/wav2vec2 --lm exports/wav2vec2_lm   # beam search with a word n-gram LM
  curl -F file=@speech.wav http://127.0.0.1:8000/v1/transcribe

Every option also comes from an ASR_* environment variable (ASR_MODEL_PATH, ASR_TFSERVING_ADDRESS,
ASR_MODEL_NAME, ASR_BATCH_MAX_SIZE, ...); see docs/service.md.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the HTTP transcription gateway",
        description="Serve POST /v1/transcribe (OpenAPI docs at /docs) over the embedded model or TF Serving.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", type=Path, help="SavedModel dir (NAME/ or NAME/VERSION/); with --tfserving, the "
                        "one TF Serving serves (its vocabulary and LM are read here); default: bundled")  # fmt: skip
    parser.add_argument("--tfserving", metavar="HOST:PORT", help="call TF Serving's gRPC API instead")
    parser.add_argument("--model-name", help="model name in TF Serving and in responses")
    parser.add_argument("--host", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="bind port (default 8000)")
    parser.add_argument("--batch-max-size", type=int, help="micro-batch size of the embedded model (1: off)")
    parser.add_argument("--batch-max-wait-ms", type=float, help="how long a request waits for batch mates")
    add_decoding_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ctc_decoding import LanguageModelError, read_decoder_config
    from model_export.contract import resolve_version_dir
    from model_export.errors import ExportError
    from service import Settings, create_app
    from service.decoding import language_model_path
    from service.logs import configure_logging

    flags = {
        "model_path": args.model,
        "tfserving_address": args.tfserving,
        "model_name": args.model_name,
        "host": args.host,
        "port": args.port,
        "batch_max_size": args.batch_max_size,
        "batch_max_wait_ms": args.batch_max_wait_ms,
    }
    # Flags win over ASR_* environment variables, which win over the defaults.
    flags = {name: value for name, value in flags.items() if value is not None}
    settings = Settings(**flags, **decoding_settings(args))
    configure_logging(json_lines=settings.log_json, level=logging.DEBUG if args.verbose else logging.INFO)
    # Both backends read the model's assets (vocabulary, frame rate, language model) from the model directory.
    try:
        model_dir = resolve_version_dir(settings.model_path)
    except ExportError as error:
        hint = " (the bundled demo model is missing: pass --model or set ASR_MODEL_PATH)"
        print(f"asr serve: {error}{hint if args.model is None else ''}", file=sys.stderr)
        return 2
    lm_dir = language_model_path(settings, model_dir)
    if lm_dir is not None:
        try:
            read_decoder_config(lm_dir)  # the cheap checks, so a wrong --lm is one line, not a startup traceback
        except LanguageModelError as error:
            print(f"asr serve: {error}", file=sys.stderr)
            return 2
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
    return 0
