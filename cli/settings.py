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
from cli.tf_setup import load_tensorflow

if TYPE_CHECKING:
    from model_export.export_cache import LocatedModel
    from service.config import Settings


def add_model_arguments(parser: argparse.ArgumentParser, *, model_help: str, model_name_help: str) -> None:
    """Adds the flags that choose the model and its decoding: --model, --tfserving, --model-name, --lm/--no-lm."""
    parser.add_argument(
        "--model",
        action="append",
        metavar="[NAME=]PATH_OR_HUB_ID",
        help=f"{model_help}. Repeat it as NAME=PATH_OR_HUB_ID to serve several models; the first is the default",
    )
    parser.add_argument(
        "--models-file",
        type=Path,
        metavar="FILE",
        help='JSON of more models by name, as ASR_MODELS: {"de": "/models/de", "en2": {"path": ..., "decoder": ...}}',
    )
    parser.add_argument("--tfserving", metavar="HOST:PORT", help="call TF Serving's gRPC API instead")
    parser.add_argument(
        "--tfserving-config",
        type=Path,
        metavar="FILE",
        help="with --tfserving: TF Serving's model config file (models.config); serve every model it lists, by "
        "name, each one's vocabulary and LM read from its base_path (the first is the default unless --model-name)",
    )
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

    from service.config import Settings

    flags |= {
        "tfserving_address": args.tfserving,
        "tfserving_model_config": args.tfserving_config,
        "model_name": args.model_name,
    } | _model_flags(args)
    for name in ("intra_op_threads", "inter_op_threads"):  # the commands that add_thread_arguments
        flags.setdefault(name, getattr(args, name, None))
    given = {name: value for name, value in flags.items() if value is not None}
    with input_errors(ValidationError):  # a bad ASR_* value in the environment
        settings = Settings(**given, **decoding_settings(args))
    if settings.tfserving.model_config_file is None:
        return settings
    if args.model or args.models_file:
        raise CommandError("--tfserving-config lists the models: leave out --model and --models-file")
    with input_errors(ValidationError):
        return _with_configured_models(settings)


def _with_configured_models(settings: Settings) -> Settings:
    """Returns the settings serving the models TF Serving's model config lists, by name, from their base paths."""
    from model_export.errors import ModelConfigError
    from model_export.serving_config import read_model_config_list

    if not settings.tfserving.address:
        raise CommandError("--tfserving-config (ASR_TFSERVING_MODEL_CONFIG) needs --tfserving HOST:PORT")
    with input_errors(ModelConfigError):
        configured = {
            model.name: model.base_path for model in read_model_config_list(settings.tfserving.model_config_file)
        }
    # ASR_MODEL_NAME or --model-name, when given, picks the default; else the file's first model is.
    default_name = settings.model.name if "name" in settings.model.model_fields_set else next(iter(configured))
    if default_name not in configured:
        raise CommandError(
            f"model {default_name!r} is not in {settings.tfserving.model_config_file} "
            f"(it lists {', '.join(configured)})"
        )
    others = {name: {"path": base_path} for name, base_path in configured.items() if name != default_name}
    return settings.model_validate(
        settings.model_dump() | {"model_path": configured[default_name], "model_name": default_name, "models": others}
    )


def _model_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The settings `--model` (repeated, `[NAME=]PATH_OR_HUB_ID`) and `--models-file` give: the default model's
    path and name, and the other models by name."""
    import json

    entries = [_named(entry) for entry in args.model or []]
    models: dict[str, Any] = {}
    if args.models_file is not None:
        try:
            models = json.loads(args.models_file.read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read the models file {args.models_file}: {error}") from error
        if not isinstance(models, dict):
            raise CommandError(f"{args.models_file} must hold a JSON object of model name -> path or spec")
    flags: dict[str, Any] = {}
    if entries:
        (name, path), *others = entries
        flags |= {"model_path": Path(path), "model_name": args.model_name or name}
        for other_name, other_path in others:
            if other_name is None:
                raise CommandError(f"--model {other_path}: name each model after the first: --model NAME={other_path}")
            if other_name in models:
                raise CommandError(f"two models are named {other_name!r}")
            models[other_name] = other_path
    return flags | ({"models": models} if models else {})


def _named(entry: str) -> tuple[str | None, str]:
    """Splits `NAME=PATH` (a name has no `/`); a plain path or Hub id has no name."""
    name, equals, path = entry.partition("=")
    if equals and name and "/" not in name:
        return name, path
    return None, entry


def locate_models(settings: Settings, model_flag_given: bool) -> dict[str, LocatedModel]:
    """Returns each served model by name, a Hub id's checkpoint downloaded; no TensorFlow yet.

    A wrong path or Hub id, or an offline machine without the files, is a `CommandError` before anything slow.
    """
    from model_export.errors import ExportError
    from model_export.export_cache import locate

    located = {}
    for name in settings.model_names():
        try:
            located[name] = locate(settings.for_model(name).model.path, settings.model.cache_dir)
        except ExportError as error:
            bundled = name == settings.model.name and not model_flag_given and not settings.tfserving.model_config_file
            hint = " (the bundled demo model is missing: pass --model or set ASR_MODEL)" if bundled else ""
            which = f"model {name!r}: " if settings.registry.models else ""
            raise CommandError(f"{which}{error}{hint}") from error
    return located


def load_tensorflow_to_serve(settings: Settings, located: dict[str, LocatedModel], verbose: bool) -> None:
    """Loads TensorFlow for a server (`asr serve`, `asr wyoming`) if it runs models or exports a checkpoint.

    With TF Serving running the models the server needs no TensorFlow (the slim image), unless it exports. A server
    that only loads SavedModels runs no model whose weights change, so oneDNN may cache their layouts
    (`inference_only`, cli.tf_setup); an export in this process calls Keras models eagerly, where that cache would
    hand one layer's weights to another with the same shapes, so not then.
    """
    if settings.tfserving.address and not any(model.needs_export for model in located.values()):
        return
    exporting = any(model.exports_now for model in located.values())
    load_tensorflow(verbose, inference_only=not exporting)


def use_models(settings: Settings, located: dict[str, LocatedModel]) -> Settings:
    """Exports each located checkpoint not exported yet into the cache, checks every model's folders and LM,
    and returns the settings pointing at their SavedModels."""
    from model_export.errors import ExportError
    from model_export.export_cache import export_if_needed

    with input_errors(ExportError):
        saved_model_dirs = {name: export_if_needed(model) for name, model in located.items()}
    default_dir = saved_model_dirs.pop(settings.model.name)
    models = {
        name: spec.model_copy(update={"path": saved_model_dirs[name]})
        for name, spec in settings.registry.models.items()
    }
    settings = settings.model_copy(
        update={
            "model": settings.model.model_copy(update={"path": default_dir}),
            "registry": settings.registry.model_copy(update={"models": models}),
        }
    )
    for name in settings.model_names():
        check_model_folders(settings.for_model(name))
    return settings


def check_model_folders(settings: Settings) -> None:
    """Raises `CommandError` when the model directory or the LM folder the settings name cannot be used."""
    from ctc_decoding import LanguageModelError, read_decoder_config
    from engine.decoding import language_model_path
    from model_export.contract import resolve_version_dir
    from model_export.errors import ExportError

    # Both backends read the model's assets (vocabulary, frame rate, language model) from the model directory.
    with input_errors(ExportError):
        model_dir = resolve_version_dir(settings.model.path)
    lm_dir = language_model_path(settings, model_dir)
    if lm_dir is not None:
        with input_errors(LanguageModelError):
            read_decoder_config(lm_dir)  # the cheap checks, so a wrong --lm is one line, not a startup traceback
