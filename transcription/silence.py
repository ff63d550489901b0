"""The energy gate: windows with no sound loud enough to be speech skip the model call.

A window is silent when its loudest 20 ms frame (the model's frame: `FrameGeometry.samples_per_frame`) is below the
floor, the higher of
- an absolute floor, -70 dBFS: below 16-bit dither and the noise floor of any microphone chain; digital silence and
  near-silent room tone fall under it, quiet speech (-40 to -50 dBFS peaks on a far microphone) does not;
- a floor relative to the file, 50 dB below its loudest frame: a recording's speech peaks sit within ~30 dB of
  each other (whispering to shouting), so 50 dB below the loudest is room tone between sentences, never a word.

Whole windows, context included, are judged, so a word at a window's edge keeps its window. The gate costs one
pass over the samples (a multiply-add per sample), against the model's ~1e5 per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transcription.chunking import Window


@dataclass(frozen=True)
class SilenceGate:
    """The floor below which a window holds no speech: absolute (dBFS), and relative to the file's loudest frame."""

    absolute_floor_dbfs: float = -70.0
    relative_floor_db: float = 50.0

    def silent_windows(self, samples: np.ndarray, windows: list[Window], frame_samples: int) -> set[int]:
        """Return the indices of `windows` (over `samples`, [samples] float32) whose every frame is below the floor."""
        frame_power = _frame_power(samples, frame_samples)
        if not len(frame_power):
            return set()
        loudest_dbfs = _dbfs(float(frame_power.max()))
        floor_dbfs = max(self.absolute_floor_dbfs, loudest_dbfs - self.relative_floor_db)
        floor_power = 10.0 ** (floor_dbfs / 10.0)
        silent = set()
        for window in windows:
            first, last = window.start // frame_samples, -(-window.end // frame_samples)
            if frame_power[first:last].max(initial=0.0) < floor_power:
                silent.add(window.index)
        return silent


def _frame_power(samples: np.ndarray, frame_samples: int) -> np.ndarray:
    """Return the mean square of each frame of `samples` ([frames] float64; a short last frame is zero-padded)."""
    whole = len(samples) // frame_samples
    frames = samples[: whole * frame_samples].reshape(whole, frame_samples)
    # einsum squares and sums without a temporary the size of the audio (230 MB per hour).
    power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frame_samples
    tail = samples[whole * frame_samples :]
    if len(tail):
        power = np.append(power, np.dot(tail, tail) / frame_samples)
    return power


def _dbfs(power: float) -> float:
    """Return mean-square `power` in dB relative to a full-scale square wave (1.0), floored at -200 dB."""
    return 10.0 * np.log10(max(power, 1e-20))
