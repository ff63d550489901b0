"""The output formats, checked by the parsers real players and clients use: srt, webvtt-py, OpenAI's own types."""

from __future__ import annotations

import datetime

import pytest
import srt
import webvtt
from openai.types.audio import TranscriptionSegment, TranscriptionVerbose, TranscriptionWord

from transcription import Segment, Transcript, Word
from transcription.formats import (
    RESPONSE_FORMATS,
    compression_ratio,
    render,
    to_json,
    to_srt,
    to_text,
    to_verbose_json,
    to_vtt,
)


def _transcript(*segments: tuple[float, float, str], duration_s: float | None = None) -> Transcript:
    """Returns a transcript of `segments` (start_s, end_s, text); each word gets an equal share of its segment."""
    built = []
    for index, (start_s, end_s, text) in enumerate(segments):
        tokens = text.split()
        step = (end_s - start_s) / max(len(tokens), 1)
        words = tuple(
            Word(token, start_s + i * step, start_s + (i + 1) * step, confidence=0.5 + 0.1 * (i % 5))
            for i, token in enumerate(tokens)
        )
        built.append(Segment(index, start_s, end_s, text, words))
    return Transcript(
        text=" ".join(text for _, _, text in segments),
        duration_s=duration_s if duration_s is not None else (segments[-1][1] + 0.5 if segments else 0.0),
        decoder="greedy",
        words=tuple(word for segment in built for word in segment.words),
        segments=tuple(built),
    )


EMPTY = Transcript(text="", duration_s=2.5, decoder="greedy")
TWO_SEGMENTS = _transcript((0.12, 1.5, "HELLO WORLD"), (2.0, 3.25, "IT'S A TEST"))
HOURS_LONG = _transcript((3723.456, 3725.0, "LATE WORDS"), (36_000.0, 36_001.5, "TEN HOURS IN"))
NON_ASCII = _transcript((0.0, 1.0, "ÇA VA où 東京 😀"))


def _srt_cues(text: str) -> list[srt.Subtitle]:
    return list(srt.parse(text))


def _vtt_cues(text: str) -> list[webvtt.Caption]:
    return list(webvtt.from_string(text, strict=True))


def test_srt_cues_parse_back_to_the_segments():
    cues = _srt_cues(to_srt(TWO_SEGMENTS))
    assert [cue.index for cue in cues] == [1, 2]
    assert [cue.content for cue in cues] == ["HELLO WORLD", "IT'S A TEST"]
    assert cues[0].start == datetime.timedelta(seconds=0.12)
    assert cues[1].end == datetime.timedelta(seconds=3.25)


def test_vtt_cues_parse_back_to_the_segments():
    text = to_vtt(TWO_SEGMENTS)
    assert text.startswith("WEBVTT\n")
    cues = _vtt_cues(text)
    assert [(cue.start, cue.end, cue.text) for cue in cues] == [
        ("00:00:00.120", "00:00:01.500", "HELLO WORLD"),
        ("00:00:02.000", "00:00:03.250", "IT'S A TEST"),
    ]


def test_hours_long_timestamps():
    srt_text = to_srt(HOURS_LONG)
    assert "01:02:03,456 --> 01:02:05,000" in srt_text
    assert "10:00:00,000 --> 10:00:01,500" in srt_text
    assert [cue.start.total_seconds() for cue in _srt_cues(srt_text)] == [3723.456, 36_000.0]
    vtt_cues = _vtt_cues(to_vtt(HOURS_LONG))
    assert [cue.start for cue in vtt_cues] == ["01:02:03.456", "10:00:00.000"]


def test_rounding_to_milliseconds_carries_into_seconds_and_minutes():
    cue = _srt_cues(to_srt(_transcript((59.9996, 60.0004, "X"))))[0]
    assert cue.start == cue.end - datetime.timedelta(milliseconds=1) == datetime.timedelta(minutes=1)


def test_empty_transcript_is_a_valid_empty_file_in_every_format():
    assert _srt_cues(to_srt(EMPTY)) == []
    assert _vtt_cues(to_vtt(EMPTY)) == []
    assert to_text(EMPTY) == ""
    assert to_json(EMPTY) == {"text": "", "duration_s": 2.5, "decoder": "greedy", "words": [], "segments": []}
    verbose = TranscriptionVerbose.model_validate(to_verbose_json(EMPTY))
    assert (verbose.text, verbose.segments, verbose.words, verbose.duration) == ("", [], [], 2.5)


def test_arrows_and_blank_lines_in_text_cannot_break_a_cue():
    tricky = Transcript(
        text="A --> B",
        duration_s=5.0,
        decoder="greedy",
        segments=(
            Segment(0, 0.0, 1.0, "A --> B"),
            Segment(1, 1.0, 2.0, "FIRST\n\nSECOND\r\nTHIRD"),
            Segment(2, 2.0, 3.0, "   \n "),  # nothing to show: no cue, not an empty one
            Segment(3, 3.0, 4.0, "1 < 2 & <b>bold</b>"),
        ),
    )
    srt_cues = _srt_cues(to_srt(tricky))
    assert [cue.content for cue in srt_cues] == ["A -> B", "FIRST SECOND THIRD", "1 < 2 & <b>bold</b>"]
    vtt_text = to_vtt(tricky)
    assert [cue.raw_text for cue in _vtt_cues(vtt_text)] == [
        "A -&gt; B",
        "FIRST SECOND THIRD",
        "1 &lt; 2 &amp; &lt;b&gt;bold&lt;/b&gt;",
    ]
    assert "<b>" not in vtt_text


def test_non_ascii_text_survives_every_format():
    assert _srt_cues(to_srt(NON_ASCII))[0].content == "ÇA VA où 東京 😀"
    assert _vtt_cues(to_vtt(NON_ASCII))[0].text == "ÇA VA où 東京 😀"
    assert to_json(NON_ASCII)["words"][3]["text"] == "東京"
    assert TranscriptionVerbose.model_validate(to_verbose_json(NON_ASCII)).words[4].word == "😀"


def test_a_zero_length_segment_still_ends_after_it_starts():
    cue = _vtt_cues(to_vtt(_transcript((1.0, 1.0, "BLIP"))))[0]
    assert (cue.start, cue.end) == ("00:00:01.000", "00:00:01.001")


def test_verbose_json_has_exactly_openais_fields():
    body = to_verbose_json(TWO_SEGMENTS)
    verbose = TranscriptionVerbose.model_validate(body)
    # OpenAI's types accept unknown keys, so check the names both ways as well.
    assert set(body) == set(TranscriptionVerbose.model_fields)
    assert all(set(segment) == set(TranscriptionSegment.model_fields) for segment in body["segments"])
    assert all(set(word) == set(TranscriptionWord.model_fields) for word in body["words"])
    assert verbose.usage is not None and (verbose.usage.type, verbose.usage.seconds) == ("duration", 3.75)
    assert verbose.duration == 3.75 and verbose.language == "english"
    assert [(w.word, w.start, w.end) for w in verbose.words[:2]] == [("HELLO", 0.12, 0.81), ("WORLD", 0.81, 1.5)]
    first = verbose.segments[0]
    assert (first.id, first.seek, first.start, first.end, first.text) == (0, 12, 0.12, 1.5, "HELLO WORLD")
    assert (first.tokens, first.temperature, first.no_speech_prob) == ([], 0.0, 0.0)


def test_verbose_json_avg_logprob_is_the_mean_log_confidence():
    segment = Segment(0, 0.0, 1.0, "A B", (Word("A", 0.0, 0.5, 1.0), Word("B", 0.5, 1.0, 0.0)))
    body = to_verbose_json(Transcript("A B", 1.0, "lexicon-lm", (*segment.words,), (segment,)))
    # log(1) = 0 and log(0) floored at log(1e-6): the mean is below OpenAI's "failed" line of -1.
    assert body["segments"][0]["avg_logprob"] == pytest.approx(-6.9078, abs=1e-4)


def test_compression_ratio_flags_repetition_like_whisper():
    assert compression_ratio("") == 0.0
    assert compression_ratio("THE QUICK BROWN FOX") < 2.4 < compression_ratio("LA " * 100)


def test_json_lists_words_and_segments_with_times_in_seconds():
    body = to_json(TWO_SEGMENTS)
    assert body["decoder"] == "greedy" and body["text"] == "HELLO WORLD IT'S A TEST"
    assert body["words"][0] == {"text": "HELLO", "start_s": 0.12, "end_s": 0.81, "confidence": 0.5}
    assert body["segments"][1] == {"id": 1, "start_s": 2.0, "end_s": 3.25, "text": "IT'S A TEST"}


def test_render_dispatches_and_refuses_unknown_formats():
    assert [type(render(TWO_SEGMENTS, name)) for name in RESPONSE_FORMATS] == [dict, str, dict, str, str]
    assert render(TWO_SEGMENTS, "verbose_json", language="german")["language"] == "german"
    with pytest.raises(ValueError, match="'tsv'"):
        render(TWO_SEGMENTS, "tsv")
