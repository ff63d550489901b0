"""Chunk plans: windows cover the file, their kept frames tile its frames exactly once, stitching is lossless."""

from __future__ import annotations

import numpy as np
import pytest

from transcription.chunking import ChunkPlan, FrameGeometry

WAV2VEC2 = FrameGeometry(samples_per_frame=320, receptive_field=400)


def frame_features(samples: np.ndarray, first_frame: int, geometry: FrameGeometry) -> np.ndarray:
    """A stand-in for a model whose frame k depends only on its own receptive field: [frames, 2]."""
    num_frames = geometry.num_frames(len(samples))
    starts = np.arange(num_frames) * geometry.samples_per_frame
    energy = np.array([samples[s : s + geometry.receptive_field].sum() for s in starts], dtype=np.float32)
    return np.stack([energy, (first_frame + np.arange(num_frames)).astype(np.float32)], axis=1)


@pytest.mark.parametrize("num_samples", [399, 400, 16_000, 160_000, 160_321, 481_234, 1_000_000])
def test_kept_frames_tile_the_whole_file_once(num_samples):
    plan = ChunkPlan.from_seconds(10.0, 1.0, WAV2VEC2)
    windows = list(plan.windows(num_samples))
    assert len(windows) == plan.num_windows(num_samples)
    assert windows[0].start == 0 and windows[-1].end == num_samples and windows[-1].is_last
    assert all(w.end - w.start <= plan.chunk_samples for w in windows)
    assert all(w.start % 320 == 0 and w.first_frame * 320 == w.start for w in windows)
    kept = [frame for w in windows for frame in range(w.keep_start, w.keep_end)]
    assert kept == list(range(WAV2VEC2.num_frames(num_samples)))
    # Every kept frame lies inside its window's frames, at least the context away from a cut edge.
    for w in windows:
        assert w.first_frame <= w.keep_start <= w.keep_end <= w.first_frame + WAV2VEC2.num_frames(w.end - w.start)


def test_audio_within_one_chunk_is_one_window():
    plan = ChunkPlan.from_seconds(30.0, 2.5, WAV2VEC2)
    [window] = plan.windows(30 * 16_000)
    assert (window.start, window.end, window.keep_start) == (0, 30 * 16_000, 0)


def test_stitching_a_local_model_gives_the_whole_file_output():
    rng = np.random.default_rng(0)
    samples = rng.standard_normal(250_000).astype(np.float32)
    plan = ChunkPlan.from_seconds(3.0, 0.5, WAV2VEC2)
    stitched = np.concatenate([
        frame_features(samples[w.start : w.end], w.first_frame, WAV2VEC2)[
            w.keep_start - w.first_frame : w.keep_end - w.first_frame
        ]
        for w in plan.windows(len(samples))
    ])  # fmt: skip
    np.testing.assert_allclose(stitched, frame_features(samples, 0, WAV2VEC2), rtol=1e-5, atol=1e-4)


def test_a_chunk_no_longer_than_two_contexts_is_refused():
    with pytest.raises(ValueError, match="longer than twice the context"):
        ChunkPlan.from_seconds(4.0, 2.0, WAV2VEC2)
