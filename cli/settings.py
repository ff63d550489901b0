"""The service `Settings` of the commands that serve a model (`asr serve`, `asr wyoming`), and their pre-checks.

Both read the same settings the same way: flags win over ASR_* environment variables, which win over the
defaults; a bad ASR_* value, a missing model directory or a wrong LM folder is one line and exit 2 before the
model loads, not a traceback from the server's startup.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.errors import CommandError, input_errors
from cli.lm import add_decoding_arguments, decoding_settings

if TYPE_CHECKING:
    from model_export.export_cache import ServedModel
    from service.core.config import Settings


def add_model_arguments(parser: argparse.ArgumentParser, *, model_help: str, model_name_help: str) -> None:
    """Adds the flags that choose the model and its decoding: --model, --tfserving, --model-name, --lm/--no-lm."""
    parser.add_argument("--model", type=Path, metavar="PATH_OR_HUB_ID", help=model_help)
    parser.add_argument("--tfserving", metavar="HOST:PORT", help="call TF Serving's gRPC API instead")
    parser.add_argument("--model-name", help=model_name_help)
    add_decoding_arguments(parser)


def add_thread_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds --intra-op-threads and --inter-op-threads: TensorFlow's pool sizes for a model run in-process."""
    parser.add_argument(
        "--intra-op-threads",
        type=int,
        metavar="N",
        help="threads one TensorFlow op splits its work over (default 0: one per CPU; in a container, its CPU limit)",
    )
    parser.add_argument(
        "--inter-op-threads", type=int, metavar="N", help="TensorFlow ops that run at once (default 0: one per CPU)"
    )


def settings_from_flags(args: argparse.Namespace, **flags: Any) -> Settings:
    """Returns the Settings of the model flags, the command's own `flags` (those not None) and the decoding
    flags, over ASR_* environment variables and the defaults."""
    from pydantic import ValidationError

    from service.core.config import Settings

    flags |= {"model_path": args.model, "tfserving_address": args.tfserving, "model_name": args.model_name}
    for name in ("intra_op_threads", "inter_op_threads"):  # the commands that add_thread_arguments
        flags.setdefault(name, getattr(args, name, None))
    given = {name: value for name, value in flags.items() if value is not None}
    with input_errors(ValidationError):  # a bad ASR_* value in the environment
        return Settings(**given, **decoding_settings(args))


def locate_model(settings: Settings, model_flag_given: bool) -> ServedModel:
    """Returns the model the settings name, its checkpoint downloaded if it is a Hub id; no TensorFlow yet.

    A wrong path or Hub id, or an offline machine without the files, is a `CommandError` before anything slow.
    """
    from model_export.errors import ExportError
    from model_export.export_cache import locate

    try:
        return locate(settings.model_path, settings.model_cache_dir)
    except ExportError as error:
        hint = "" if model_flag_given else " (the bundled demo model is missing: pass --model or set ASR_MODEL)"
        raise CommandError(f"{error}{hint}") from error


def use_model(settings: Settings, model: ServedModel) -> Settings:
    """Exports `model` into the cache if it is a checkpoint not exported yet, checks its folders and LM, and
    returns the settings pointing at its SavedModel."""
    from model_export.errors import ExportError
    from model_export.export_cache import export_if_needed

    with input_errors(ExportError):
        settings = settings.model_copy(update={"model_path": export_if_needed(model)})
    check_model_folders(settings)
    return settings


def check_model_folders(settings: Settings) -> None:
    """Raises `CommandError` when the model directory or the LM folder the settings name cannot be used."""
    from ctc_decoding import LanguageModelError, read_decoder_config
    from model_export.contract import resolve_version_dir
    from model_export.errors import ExportError
    from service.decoding import language_model_path

    # Both backends read the model's assets (vocabulary, frame rate, language model) from the model directory.
    with input_errors(ExportError):
        model_dir = resolve_version_dir(settings.model_path)
    lm_dir = language_model_path(settings, model_dir)
    if lm_dir is not None:
        with input_errors(LanguageModelError):
            read_decoder_config(lm_dir)  # the cheap checks, so a wrong --lm is one line, not a startup traceback
