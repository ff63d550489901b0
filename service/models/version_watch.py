"""Finds a model folder's new version: TF Serving's layout, `NAME/VERSION/` with the highest number served.

A version folder appearing under the model folder the gateway serves (`asr export ... --version 2`, which
renames a finished export into place) is the signal to load it. One that fails to load is remembered with its
`saved_model.pb`'s modification time, so it is not retried every poll, and is tried again once rewritten.
"""

from __future__ import annotations

from pathlib import Path

from model_export.contract import SAVED_MODEL_FILE


class VersionWatch:
    """Remembers the version folders that failed to load; answers which newer version to load next."""

    def __init__(self) -> None:
        self._refused: dict[Path, int] = {}

    def new_version(self, model_path: Path, serving_version: int | None) -> Path | None:
        """Returns the newest loadable-looking version folder above `serving_version`, or None.

        `model_path` is a model folder (numbered versions inside) or a version folder itself; a version
        folder is pinned: nothing newer is looked for.
        """
        model_path = Path(model_path)
        if serving_version is None or (model_path / SAVED_MODEL_FILE).is_file() or not model_path.is_dir():
            return None
        candidates = sorted(
            (int(child.name), child)
            for child in model_path.iterdir()
            if child.name.isdigit() and int(child.name) > serving_version and (child / SAVED_MODEL_FILE).is_file()
        )
        for _, version_dir in reversed(candidates):
            if self._refused.get(version_dir) != _written_at(version_dir):
                return version_dir
        return None

    def refuse(self, version_dir: Path) -> None:
        """Marks `version_dir`, as it is now, as not loadable."""
        self._refused[version_dir] = _written_at(version_dir)


def _written_at(version_dir: Path) -> int:
    try:
        return (version_dir / SAVED_MODEL_FILE).stat().st_mtime_ns
    except OSError:
        return -1
