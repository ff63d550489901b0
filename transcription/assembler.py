"""Stitching windows' log-probabilities into one timeline and decoding it, stretch by stretch, as it becomes final.

Windows arrive in order. Of each, only the frames it keeps (`Window.keep_start...keep_end`: its centre) are
appended to a pending buffer; those frames are final, because no later window covers them. When the buffer is
longer than `max_pending_frames`, it is cut in the middle of its longest pause (a run of blank and delimiter
frames holding a delimiter, or long enough to be silence) and the part before the cut is decoded; the rest waits
for more frames. So memory is bounded by the chunk size, words come out while the file is still being processed,
and a file shorter than `max_pending_frames` is decoded in one piece, exactly as it was before chunking.
"""

from __future__ import annotations

import numpy as np

from ctc_decoding import log_softmax
from transcription.chunking import Window
from transcription.decoders import Decoder, pause_frames
from transcription.types import Word


def pause_cut(frame_tokens: np.ndarray, blank_id: int, delimiter_id: int, min_silent_frames: int) -> int | None:
    """Return the frame to cut a token path at: the middle of its longest pause, or None if it has none."""
    silent = (frame_tokens == blank_id) | (frame_tokens == delimiter_id)
    best: tuple[int, int] | None = None  # (length, middle)
    frame, num_frames = 0, len(frame_tokens)
    while frame < num_frames:
        if not silent[frame]:
            frame += 1
            continue
        run_start = frame
        while frame < num_frames and silent[frame]:
            frame += 1
        length = frame - run_start
        has_delimiter = bool(np.any(frame_tokens[run_start:frame] == delimiter_id))
        if (has_delimiter or length >= min_silent_frames) and (best is None or length >= best[0]):
            best = (length, run_start + length // 2)
    return None if best is None else best[1]


class WordAssembler:
    """Feed it each window's logits in order (`add`), then `finish`; each call returns the words now final."""

    def __init__(self, decoder: Decoder, frame_s: float, max_pending_frames: int) -> None:
        self._decoder = decoder
        self._frame_s = frame_s
        self._max_pending_frames = max_pending_frames
        self._pending: list[np.ndarray] = []
        self._pending_frames = 0
        self._pending_first_frame = 0
        self._next_frame = 0  # the global frame the next window's kept frames must start at

    def add(self, window: Window, logits: np.ndarray) -> list[Word]:
        """Append the frames `window` keeps of its `logits` ([frames, vocab]); return the words now final."""
        if window.keep_start != self._next_frame:
            raise ValueError(f"window {window.index} starts at frame {window.keep_start}, expected {self._next_frame}")
        kept = logits[window.keep_start - window.first_frame : window.keep_end - window.first_frame]
        self._next_frame = window.keep_start + len(kept)
        if len(kept):
            self._pending.append(log_softmax(kept))
            self._pending_frames += len(kept)
        if self._pending_frames <= self._max_pending_frames:
            return []
        log_probs = np.concatenate(self._pending)
        frame_tokens = np.argmax(log_probs, axis=-1)
        cut = pause_cut(frame_tokens, self._decoder.blank_id, self._decoder.delimiter_id, pause_frames(self._frame_s))
        if cut is None or cut == 0:
            cut = len(log_probs)
        words = self._decoder.decode(log_probs[:cut], self._pending_first_frame, self._frame_s)
        self._pending = [log_probs[cut:]] if cut < len(log_probs) else []
        self._pending_frames = len(log_probs) - cut
        self._pending_first_frame += cut
        return words

    def add_silence(self, window: Window) -> list[Word]:
        """Take `window`'s kept frames as silence (the energy gate skipped its model call); return the words now final.

        Silence is a pause, where a cut is always right: what is pending is decoded, and decoding starts afresh
        after the window, as it would at a pause the model had heard.
        """
        if window.keep_start != self._next_frame:
            raise ValueError(f"window {window.index} starts at frame {window.keep_start}, expected {self._next_frame}")
        words = self.finish()
        self._next_frame = max(window.keep_end, window.keep_start)
        self._pending_first_frame = self._next_frame
        return words

    def finish(self) -> list[Word]:
        """Decode what is still pending (the file has ended); return its words."""
        if not self._pending:
            return []
        log_probs = np.concatenate(self._pending)
        self._pending, self._pending_frames = [], 0
        return self._decoder.decode(log_probs, self._pending_first_frame, self._frame_s)
