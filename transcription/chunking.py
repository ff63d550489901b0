"""Overlapping windows over long audio, and the stitching of their per-frame outputs back into one timeline.

A window is `chunk` samples; consecutive windows overlap by twice the `context`, and each keeps only its centre:
the first `context` and the last `context` of every window (except at the file's ends) are there for the
model's attention and convolutions to see both sides of a boundary, and are dropped. The kept frames of all
windows tile the whole file's frames exactly once, so a word on a boundary is neither lost nor doubled.

Window starts are multiples of the model's frame stride (320 samples for wav2vec 2.0: 20 ms), so frame `k` of a
window starting at sample `s` is frame `s / stride + k` of the whole file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from wav2vec2.config import Wav2Vec2Config
from wav2vec2.lengths import receptive_field


@dataclass(frozen=True)
class FrameGeometry:
    """How samples map to the model's output frames (wav2vec2's conv feature encoder)."""

    samples_per_frame: int  # product of the conv strides: 320 for wav2vec 2.0
    receptive_field: int  # samples that give the first frame: 400 for wav2vec 2.0
    sample_rate_hz: int = 16_000

    @classmethod
    def of(cls, config: Wav2Vec2Config, sample_rate_hz: int = 16_000) -> FrameGeometry:
        return cls(config.total_stride, receptive_field(config), sample_rate_hz)

    @property
    def frame_s(self) -> float:
        return self.samples_per_frame / self.sample_rate_hz

    def num_frames(self, num_samples: int) -> int:
        """Frames the model gives for `num_samples` samples (wav2vec2.lengths' formula, for any conv stack)."""
        if num_samples < self.receptive_field:
            return 0
        return (num_samples - self.receptive_field) // self.samples_per_frame + 1


@dataclass(frozen=True)
class Window:
    """One chunk of the file: samples `[start, end)`; of its frames, global frames `[keep_start, keep_end)` count."""

    index: int
    start: int
    end: int
    first_frame: int  # global index of this window's frame 0: start / samples_per_frame
    keep_start: int
    keep_end: int
    is_last: bool


@dataclass(frozen=True)
class ChunkPlan:
    """Chunk and context lengths in samples, both whole frames (see the module docstring)."""

    chunk_samples: int
    context_samples: int
    geometry: FrameGeometry

    @classmethod
    def from_seconds(cls, chunk_s: float, context_s: float, geometry: FrameGeometry) -> ChunkPlan:
        stride = geometry.samples_per_frame
        chunk = int(round(chunk_s * geometry.sample_rate_hz / stride)) * stride
        context = int(round(context_s * geometry.sample_rate_hz / stride)) * stride
        if chunk - 2 * context < stride:
            raise ValueError(
                f"a chunk of {chunk_s:g} s leaves nothing between two contexts of {context_s:g} s: "
                "the chunk must be longer than twice the context"
            )
        return cls(chunk, context, geometry)

    @property
    def step_samples(self) -> int:
        return self.chunk_samples - 2 * self.context_samples

    def windows(self, num_samples: int) -> Iterator[Window]:
        """Yield the windows covering `num_samples` samples, in order; one window if the audio fits in a chunk."""
        stride = self.geometry.samples_per_frame
        total_frames = self.geometry.num_frames(num_samples)
        start, index = 0, 0
        while True:
            is_last = start + self.chunk_samples >= num_samples
            end = num_samples if is_last else start + self.chunk_samples
            keep_start = 0 if index == 0 else (start + self.context_samples) // stride
            keep_end = total_frames if is_last else (end - self.context_samples) // stride
            yield Window(index, start, end, start // stride, keep_start, keep_end, is_last)
            if is_last:
                return
            start += self.step_samples
            index += 1

    def num_windows(self, num_samples: int) -> int:
        if num_samples <= self.chunk_samples:
            return 1
        return -(-(num_samples - self.chunk_samples) // self.step_samples) + 1
