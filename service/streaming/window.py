"""Streaming by re-decoding a sliding window: which words of the latest decode are final, and where to cut.

wav2vec 2.0 is not causal: every frame attends to the whole input, so a word's decoding changes until the model
has heard what follows it. A stream therefore keeps the audio of the segment still open (plus some audio before
it), re-decodes all of it every hop, and finalises the words that the next decodes can no longer change: the words
before a pause, or, when the segment grows past its maximum length, the words well inside the window.

The defaults (`WindowPolicy`) and why:
- hop 0.5 s: a partial result every half second of audio; re-decoding a segment of length L costs L / hop model
  seconds per second of audio, so the hop trades partial latency against CPU (at 0.5 s and a 10 s cap, at most
  ~22x the offline cost, ~8x for typical 3-4 s utterances).
- left context 1.0 s: audio before the segment's start is decoded with it (its words are discarded) so that the
  first word of a segment that was cut at the length cap is heard with what precedes it; 1 s is most of one side
  of the positional convolution's reach (128 frames of 20 ms = 2.56 s, +-1.28 s).
- right context 0.5 s: a word is final only once 0.5 s of audio follows it in the window; nearer the window's end
  its CTC spikes still move (measured on the demo model: words decode identically once ~0.3 s follows them).
- pause 0.5 s: a gap of at least this between words (or after the last one) ends a segment; fluent speech has
  shorter gaps inside a phrase, voice commands end with longer ones.
- max segment 10 s: past it the segment is cut at the last word boundary before the right context, which bounds
  both the window (and so the memory and the cost of each decode) and the time to a final in speech without pauses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from transcription import Segment, Transcript, Word

# Decodes 16 kHz mono float32 audio into a timed transcript (times from the start of that audio).
TranscribeFn = Callable[[np.ndarray], Awaitable[Transcript]]

# Shorter than one wav2vec 2.0 receptive field (400 samples = 25 ms, rounded up): nothing to decode.
_MIN_DECODE_SAMPLES = 480


@dataclass(frozen=True)
class WindowPolicy:
    """How a stream re-decodes and finalises; the module docstring says why these defaults."""

    sample_rate_hz: int = 16_000
    hop_s: float = 0.5
    left_context_s: float = 1.0
    right_context_s: float = 0.5
    pause_s: float = 0.5
    max_segment_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ("hop_s", "pause_s", "max_segment_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"WindowPolicy.{name} must be > 0, got {getattr(self, name)}")
        if self.left_context_s < 0 or self.right_context_s < 0:
            raise ValueError("WindowPolicy context lengths must be >= 0")
        if self.max_segment_s <= self.right_context_s + self.pause_s:
            raise ValueError(
                f"max_segment_s ({self.max_segment_s}) must exceed right_context_s + pause_s "
                f"({self.right_context_s + self.pause_s})"
            )


@dataclass(frozen=True)
class Cut:
    """What one decode of the open segment settles: the words now final, the open words, the next segment start."""

    final_words: tuple[Word, ...]
    open_words: tuple[Word, ...]
    next_start_s: float


def _center_s(word: Word) -> float:
    return 0.5 * (word.start_s + word.end_s)


def choose_cut(
    words: list[Word], segment_start_s: float, window_end_s: float, policy: WindowPolicy, flush: bool
) -> Cut:
    """Return which of `words` (absolute times, decoded up to `window_end_s`) are final, and the next start.

    Words centred before `segment_start_s` belong to the left context (an earlier segment) and are dropped.
    """
    words = [word for word in words if _center_s(word) >= segment_start_s]
    if flush:
        return Cut(tuple(words), (), window_end_s)
    stable_end_s = window_end_s - max(policy.right_context_s, policy.pause_s)
    # The last word followed by a pause that lies inside the window (and is heard with the right context).
    for index in range(len(words) - 1, -1, -1):
        word = words[index]
        next_start_s = words[index + 1].start_s if index + 1 < len(words) else window_end_s
        if word.end_s <= stable_end_s and next_start_s - word.end_s >= policy.pause_s:
            cut_s = word.end_s + policy.pause_s / 2
            return Cut(tuple(words[: index + 1]), tuple(words[index + 1 :]), cut_s)
    if not words and window_end_s - segment_start_s > policy.pause_s + policy.right_context_s:
        # Silence (or noise the model hears no word in): let it go, so the window does not grow.
        return Cut((), (), stable_end_s)
    if window_end_s - segment_start_s >= policy.max_segment_s:
        stable = [word for word in words if word.end_s <= window_end_s - policy.right_context_s]
        rest = words[len(stable) :]
        if stable:
            cut_s = 0.5 * (stable[-1].end_s + rest[0].start_s) if rest else stable[-1].end_s
        else:  # one "word" longer than the cap: garbage, not speech; move on
            cut_s = window_end_s - policy.right_context_s
        return Cut(tuple(stable), tuple(rest), cut_s)
    return Cut((), tuple(words), segment_start_s)


def split_at_pauses(words: tuple[Word, ...], pause_s: float) -> list[tuple[Word, ...]]:
    """Return `words` in runs separated by gaps of at least `pause_s`: one segment per pause, however late the
    decode that saw them (a slow server finalises several at once, but not as one segment)."""
    groups: list[list[Word]] = []
    for word in words:
        if groups and word.start_s - groups[-1][-1].end_s < pause_s:
            groups[-1].append(word)
        else:
            groups.append([word])
    return [tuple(group) for group in groups]


@dataclass
class SlidingWindow:
    """The audio of a stream still needed for decoding, and the open segment's start; feed it, then `decode`.

    Not thread-safe and not a task: the caller (`StreamSession`, the Wyoming handler) awaits `decode` once at a
    time; audio may be appended while a decode is awaited.
    """

    policy: WindowPolicy = field(default_factory=WindowPolicy)
    segment_start_s: float = 0.0
    decoded_until_s: float = 0.0  # end of the audio the latest decode saw
    _buffer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    _buffer_start: int = 0  # sample index of `_buffer[0]` in the stream
    _next_segment_id: int = 0

    @property
    def received_s(self) -> float:
        """Seconds of audio fed so far (the end of the stream's timeline)."""
        return (self._buffer_start + len(self._buffer)) / self.policy.sample_rate_hz

    @property
    def backlog_s(self) -> float:
        """Seconds of audio fed but not yet seen by any decode."""
        return self.received_s - self.decoded_until_s

    def feed(self, samples: np.ndarray) -> None:
        """Append 16 kHz mono float32 samples."""
        self._buffer = np.concatenate([self._buffer, samples.astype(np.float32, copy=False)])

    def _sample(self, time_s: float) -> int:
        return int(round(time_s * self.policy.sample_rate_hz))

    async def decode(self, transcribe: TranscribeFn, flush: bool = False) -> tuple[list[Segment], tuple[Word, ...]]:
        """Re-decode the open segment; return the segments it finalised and the open segment's words.

        With `flush`, everything up to the end of the audio fed so far is finalised (end of the stream); call it
        until `received_s <= segment_start_s`, since one window holds at most `max_segment_s` (+ contexts).
        """
        policy, rate = self.policy, self.policy.sample_rate_hz
        received = self._buffer_start + len(self._buffer)
        window_start = max(self._buffer_start, self._sample(self.segment_start_s - policy.left_context_s))
        window_end = min(received, self._sample(self.segment_start_s + policy.max_segment_s + policy.right_context_s))
        flush = flush and window_end >= received
        samples = self._buffer[window_start - self._buffer_start : window_end - self._buffer_start]
        offset_s, window_end_s = window_start / rate, window_end / rate
        words: list[Word] = []
        if len(samples) >= _MIN_DECODE_SAMPLES:
            transcript = await transcribe(samples)
            words = [
                Word(word.text, word.start_s + offset_s, word.end_s + offset_s, word.confidence)
                for word in transcript.words
            ]
        self.decoded_until_s = max(self.decoded_until_s, window_end_s)
        cut = choose_cut(words, self.segment_start_s, window_end_s, policy, flush)
        finals = [self._segment(group) for group in split_at_pauses(cut.final_words, policy.pause_s)]
        self.segment_start_s = cut.next_start_s
        keep_from = max(self._buffer_start, self._sample(self.segment_start_s - policy.left_context_s))
        self._buffer = self._buffer[keep_from - self._buffer_start :]
        self._buffer_start = keep_from
        return finals, cut.open_words

    @property
    def finished(self) -> bool:
        """Whether every fed sample has been decoded into finals (after flushing)."""
        return self.segment_start_s >= self.received_s

    def _segment(self, words: tuple[Word, ...]) -> Segment:
        segment = Segment(
            id=self._next_segment_id,
            start_s=words[0].start_s,
            end_s=words[-1].end_s,
            text=" ".join(word.text for word in words),
            words=words,
        )
        self._next_segment_id += 1
        return segment
