"""`asr serve`: the HTTP gateway under uvicorn, with the model in-process or in TensorFlow Serving."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from typing import TYPE_CHECKING

from cli.errors import CommandError
from cli.settings import (
    add_model_arguments,
    add_thread_arguments,
    load_tensorflow_to_serve,
    locate_models,
    settings_from_flags,
    use_models,
)

if TYPE_CHECKING:
    from service.config import Settings

logger = logging.getLogger(__name__)

EPILOG = """examples:
  asr serve                                   # the bundled demo model, in-process, on 127.0.0.1:8000
  asr serve --model exports/wav2vec2 --port 8080
  asr serve --model facebook/wav2vec2-base-960h   # a Hub id: downloaded and exported once, then reused
  asr serve --tfserving localhost:8500 --model-name wav2vec2
  asr serve --tfserving localhost:8500 --tfserving-config models.config   # every model TF Serving's file lists
  asr serve --model exports/wav2vec2 --lm exports/wav2vec2_lm   # beam search with a word n-gram LM
  asr serve --batch-max-size 1 --intra-op-threads 2 --inter-op-threads 1   # a 2-CPU container
  ASR_API_KEYS=sk-1 asr serve --host 0.0.0.0   # reachable from other hosts: require a key
  curl -F file=@speech.wav http://127.0.0.1:8000/v1/transcribe
  open http://127.0.0.1:8000/             # the page: upload or record, transcript with word timings

Every option also comes from an ASR_* environment variable (ASR_MODEL, ASR_MODEL_CACHE_DIR, ASR_TFSERVING_ADDRESS,
ASR_TFSERVING_MODEL_CONFIG, ASR_MODEL_NAME, ASR_BATCH_MAX_SIZE, ASR_INTRA_OP_THREADS, ...); see docs/service.md.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the HTTP transcription gateway",
        description="Serve POST /v1/transcribe (OpenAPI docs at /docs) over the embedded model or TF Serving.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_arguments(
        parser,
        model_help="SavedModel dir (NAME/ or NAME/VERSION/), HF checkpoint dir or Hugging Face Hub id (exported "
        "once into ASR_MODEL_CACHE_DIR); with --tfserving, the one TF Serving serves (its vocabulary and LM are "
        "read here); default: bundled",
        model_name_help="model name in TF Serving and in responses",
    )
    parser.add_argument("--host", help="bind address (default 127.0.0.1; set ASR_API_KEYS before opening it wider)")
    parser.add_argument("--port", type=int, help="bind port (default 8000)")
    parser.add_argument("--batch-max-size", type=int, help="micro-batch size of the embedded model (1: off)")
    parser.add_argument("--batch-max-wait-ms", type=float, help="how long a request waits for batch mates")
    add_thread_arguments(parser)
    # The port is checked before TensorFlow and the model load (seconds), so a busy port fails at once.
    parser.set_defaults(func=run, loads_tensorflow_itself=True)


def run(args: argparse.Namespace) -> int:
    # Flags win over ASR_* environment variables, which win over the defaults.
    settings = settings_from_flags(
        args,
        host=args.host,
        port=args.port,
        batch_max_size=args.batch_max_size,
        batch_max_wait_ms=args.batch_max_wait_ms,
    )
    with bind_socket(settings.http.host, settings.http.port) as listening_socket:
        from service.logs import configure_logging

        configure_logging(json_lines=settings.log_json, level=logging.DEBUG if args.verbose else logging.INFO)
        located = locate_models(settings, model_flag_given=args.model is not None)  # Hub ids are fetched here
        load_tensorflow_to_serve(settings, located, args.verbose)
        serve(use_models(settings, located), listening_socket)
    return 0


def serve(settings: Settings, listening_socket: socket.socket) -> None:
    """Runs the gateway on `listening_socket` until interrupted."""
    import uvicorn

    from service import create_app
    from service.api.middleware.http_protocol import HeadLimitedHttpToolsProtocol
    from service.draining import DrainingServer

    warning = exposure_warning(settings)
    if warning:
        print(f"asr serve: warning: {warning}", file=sys.stderr)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.http.host,
        port=settings.http.port,
        log_config=None,
        timeout_graceful_shutdown=settings.http.shutdown_timeout_s,
        http=HeadLimitedHttpToolsProtocol.with_head_timeout(settings.http.request_head_timeout_s),
    )
    # uvicorn names its address only when it binds the socket itself.
    host, port = listening_socket.getsockname()[:2]
    logger.info("listening on http://%s:%d once the model is loaded (CTRL+C to quit)", host, port)
    DrainingServer(config, app.state.draining).run(sockets=[listening_socket])


def bind_socket(host: str, port: int) -> socket.socket:
    """Returns a socket bound to `host:port` the way uvicorn binds one; a busy port is a `CommandError`.

    uvicorn binds only after the app's startup, i.e. after the model has loaded; binding first turns a
    port in use into one line and exit 2 at once, and leaves no window in which another process takes it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: restarts reuse TIME_WAIT ports
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise CommandError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    sock.set_inheritable(True)
    return sock


def exposure_warning(settings: Settings) -> str | None:
    """Return a warning when the gateway would listen beyond loopback with no API key set, else None."""
    from service.api.auth import ApiKeys

    loopback = settings.http.host in ("localhost", "::1") or settings.http.host.startswith("127.")
    if loopback or ApiKeys.from_settings(settings).required:
        return None
    return (
        f"listening on {settings.http.host} without API keys: anyone who reaches this port can transcribe; "
        "set ASR_API_KEYS (or ASR_API_KEYS_FILE) to require `Authorization: Bearer KEY`"
    )
