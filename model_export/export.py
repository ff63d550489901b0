"""Writes `DIR/NAME/VERSION/`: a SavedModel in the layout TF Serving loads, with its warmup requests."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import tensorflow as tf

from model_export.errors import ExportError
from model_export.export_module import ServingModule
from model_export.int8 import write_int8_tflite
from model_export.precision import INT8, with_precision
from model_export.warmup import write_warmup_file
from wav2vec2.errors import Wav2Vec2Error
from wav2vec2.model import Wav2Vec2ForCTC
from wav2vec2.processor import Wav2Vec2Processor

logger = logging.getLogger(__name__)


def version_dir(out_dir: str | Path, name: str, version: int) -> Path:
    """Returns `out_dir/name/version`, checking that TF Serving will take `name` and `version`."""
    if not name or "/" in name or name.startswith("."):
        raise ExportError(f"model name {name!r} must be a non-empty directory name not starting with '.'")
    if version < 1:
        raise ExportError(f"version {version} must be a positive integer (TF Serving ignores other directories)")
    return Path(out_dir) / name / str(version)


def load_source(source: str | Path) -> tuple[Wav2Vec2ForCTC, Wav2Vec2Processor]:
    """Returns the model and processor of an HF checkpoint directory, a hub id, or a `save_pretrained` directory."""
    try:
        model = Wav2Vec2ForCTC.from_pretrained(source)
        processor = Wav2Vec2Processor.from_pretrained(source)
    except Wav2Vec2Error as error:
        raise ExportError(f"cannot load the model to export from {source}: {error}") from error
    return model, processor


def export_saved_model(
    model: Wav2Vec2ForCTC,
    processor: Wav2Vec2Processor,
    out_dir: str | Path,
    name: str,
    version: int,
    precision: str = "float32",
) -> Path:
    """Exports `model` with in-graph pre- and post-processing to `out_dir/name/version` and returns that path.

    `precision` ("float32" or "bfloat16", see `model_export.precision`) is traced into the graph; "int8" writes
    the float32 SavedModel and, beside it, its `logits` signature as an int8 TensorFlow Lite model
    (`model_export.int8`), which the embedded gateway and TF Serving's `--prefer_tflite_model` run instead.

    The SavedModel is written to a hidden sibling directory and renamed into place, because TF Serving polls
    the model directory and would load a half-written numeric version.
    """
    target = version_dir(out_dir, name, version)
    model = with_precision(model, precision)
    if target.exists():
        raise ExportError(f"{target} exists; TF Serving may be serving it: choose a new --version")
    target.parent.mkdir(parents=True, exist_ok=True)
    module = ServingModule(model, processor)
    staging = Path(tempfile.mkdtemp(prefix=f".export-{version}-", dir=target.parent))
    try:
        tf.saved_model.save(module, str(staging), signatures=module.signatures())
        # The checkpoint's config and vocabulary travel in assets/ so a client can read what it talks to.
        processor.save_pretrained(staging / "assets")
        model.config.to_json_file(staging / "assets" / "config.json")
        if precision == INT8:
            write_int8_tflite(module, staging)
        write_warmup_file(staging, name, logits_only=precision == INT8)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("exported %s", target)
    return target
