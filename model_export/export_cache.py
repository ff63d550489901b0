"""A model named by what the user has: a SavedModel, an HF checkpoint folder or a Hub id, exported once into a cache.

`asr serve --model facebook/wav2vec2-base-960h` should serve what speaches or whisper-asr-webservice serve when
given a name. A SavedModel is served as it is; a checkpoint (a folder, or a Hub id fetched by `huggingface_hub`
with its progress bars) is converted and exported on the first start into `cache_dir`, keyed by the content of
its files, and the next start finds the export there and loads nothing else. Locating needs no TensorFlow, so a
wrong id or an offline machine without the files is one clear error before anything heavy starts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from model_export.contract import LANGUAGE_MODEL_DIR, read_vocab, resolve_version_dir
from model_export.errors import ExportError
from wav2vec2.errors import CheckpointNotFoundError
from wav2vec2.hub import CHECKPOINT_FILES, resolve_checkpoint_dir

logger = logging.getLogger(__name__)

# The version an exported checkpoint gets in the cache; a new checkpoint gets a new folder, not a new version.
CACHED_VERSION = 1


def default_cache_dir() -> Path:
    """Returns `$XDG_CACHE_HOME/wav2vec2-asr/exports` (`~/.cache/...` by default), where exports are kept."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "wav2vec2-asr" / "exports"


@dataclass(frozen=True)
class LocatedModel:
    """Where a model reference leads: a SavedModel ready to load, or a checkpoint to export there first."""

    reference: str
    saved_model_dir: Path  # a TF Serving model dir (NAME/) or version dir (NAME/VERSION/)
    checkpoint_dir: Path | None = None  # set when the SavedModel has still to be exported from it

    @property
    def needs_export(self) -> bool:
        return self.checkpoint_dir is not None

    @property
    def exports_now(self) -> bool:
        """Whether `export_if_needed` will export it (a checkpoint not in the cache yet)."""
        return self.needs_export and not (self.saved_model_dir / str(CACHED_VERSION)).is_dir()


def locate(reference: str | Path, cache_dir: Path) -> LocatedModel:
    """Returns the SavedModel `reference` names, downloading a Hub id's checkpoint if it is not cached.

    Raises `ExportError` naming what was tried when `reference` is none of a SavedModel, a checkpoint folder
    or a Hub id that `huggingface_hub` can fetch (offline with `HF_HUB_OFFLINE=1`: from its local cache only).
    """
    text = str(reference)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ExportError(f"{path} is a file; expected a SavedModel folder, a checkpoint folder or a Hub id")
        if (path / "config.json").is_file():  # an HF checkpoint (`save_pretrained` or a Hub snapshot)
            return _cached(text, path, cache_dir)
        resolve_version_dir(path)  # a SavedModel, or an ExportError that says what a SavedModel folder holds
        return LocatedModel(text, path)
    if not _looks_like_hub_id(text):
        raise ExportError(f"no model at {path}: not a folder, and not a Hugging Face Hub id (OWNER/NAME)")
    try:
        checkpoint_dir = resolve_checkpoint_dir(text)
    except CheckpointNotFoundError as error:
        raise ExportError(str(error)) from error
    return _cached(text, checkpoint_dir, cache_dir)


def export_if_needed(model: LocatedModel) -> Path:
    """Exports `model`'s checkpoint into its cache folder if it is not there yet; returns the SavedModel dir."""
    if not model.exports_now:
        return model.saved_model_dir
    from model_export.export import export_saved_model, load_source  # TensorFlow: only when there is work

    logger.info("exporting %s into %s (once; later starts reuse it)", model.reference, model.saved_model_dir)
    keras_model, processor = load_source(model.checkpoint_dir)
    try:
        export_saved_model(
            keras_model, processor, model.saved_model_dir.parent, model.saved_model_dir.name, CACHED_VERSION
        )
    except ExportError:
        # Another process (a second replica on a shared cache volume) renamed its export into place first.
        if not (model.saved_model_dir / str(CACHED_VERSION)).is_dir():
            raise
    _add_published_language_model(model)
    return model.saved_model_dir


def _add_published_language_model(model: LocatedModel) -> None:
    """Puts the LM a checkpoint was published with (pyctcdecode's `language_model/`) inside its export, where
    the gateway finds an LM (`assets.extra/lm/`); one the model cannot use is logged and left out (greedy)."""
    from ctc_decoding import LanguageModelError
    from ctc_decoding.pyctcdecode_folder import PYCTCDECODE_DIR, convert_pyctcdecode_folder, has_pyctcdecode_folder

    version_dir = model.saved_model_dir / str(CACHED_VERSION)
    lm_dir = version_dir / LANGUAGE_MODEL_DIR
    if not has_pyctcdecode_folder(model.checkpoint_dir) or lm_dir.exists():
        return
    # Built beside and renamed into place, so a second replica never reads a half-written folder.
    building_dir = lm_dir.with_name(f"{lm_dir.name}.building-{os.getpid()}")
    try:
        convert_pyctcdecode_folder(model.checkpoint_dir / PYCTCDECODE_DIR, read_vocab(version_dir) or [], building_dir)
        building_dir.rename(lm_dir)
    except (LanguageModelError, OSError) as error:
        if lm_dir.is_dir():  # another replica renamed its folder into place first
            return
        logger.warning("%s: its language model is left out, decoding is greedy: %s", model.reference, error)
        return
    finally:
        shutil.rmtree(building_dir, ignore_errors=True)
    logger.info("%s: serving the language model it was published with (%s)", model.reference, lm_dir)


def _cached(reference: str, checkpoint_dir: Path, cache_dir: Path) -> LocatedModel:
    saved_model_dir = Path(cache_dir).expanduser() / _slug(reference) / _fingerprint(checkpoint_dir)
    if (saved_model_dir / str(CACHED_VERSION)).is_dir():
        logger.info("using the export of %s cached at %s", reference, saved_model_dir)
        return LocatedModel(reference, saved_model_dir)
    return LocatedModel(reference, saved_model_dir, checkpoint_dir)


def _fingerprint(checkpoint_dir: Path) -> str:
    """Names a checkpoint's content: its files' names, sizes and contents' first and last MiB, hashed.

    Hashing whole weight files would cost seconds a start for a base model; size plus both ends of each file
    changes whenever the weights or the vocabulary do, and does not change when the folder is copied or moved.
    """
    digest = hashlib.sha256()
    published_lm = sorted(str(path.relative_to(checkpoint_dir)) for path in checkpoint_dir.glob("language_model/*"))
    for name in [*sorted(CHECKPOINT_FILES), *published_lm]:
        file = checkpoint_dir / name
        if not file.is_file():
            continue
        size = file.stat().st_size
        digest.update(f"{name}\0{size}\0".encode())
        with open(file, "rb") as handle:
            digest.update(handle.read(1 << 20))
            if size > 2 << 20:
                handle.seek(-(1 << 20), os.SEEK_END)
                digest.update(handle.read())
    return digest.hexdigest()[:16]


def _looks_like_hub_id(text: str) -> bool:
    return re.fullmatch(r"[\w.-]+/[\w.-]+", text) is not None and not text.startswith(".")


def _slug(reference: str) -> str:
    """A folder name for `reference` that TF Serving and the file system take (no `/`, no leading `.`)."""
    return re.sub(r"[^\w.-]+", "--", reference.strip("/")).lstrip(".") or "model"
