"""The engine contract every door codes against, on the tiny export and 12 s of audio (three windows):
`transcribe` gives a Transcript with whole-file times, `transcribe_chunks` streams the same words, progress is
reported up to the whole file, and the in-process and TF Serving sources give the same transcript."""

from __future__ import annotations

import asyncio

import numpy as np

from engine import build_engine
from tests.service.gateway_fixtures import speechlike
from tests.support.tfserving_standin import StandInServer

AUDIO = speechlike(12.0, 16_000, seed=11).astype(np.float32)


async def both_ways(engine, progress: list[float] | None = None):
    await engine.start()
    try:
        transcript = await engine.transcribe(AUDIO, on_progress=None if progress is None else progress.append)
        pieces = [words async for words in engine.transcribe_chunks(AUDIO)]
    finally:
        await engine.close()
    return transcript, pieces


def test_transcribe_and_transcribe_chunks_agree_on_both_sources(make_settings, model_base_path):
    progress: list[float] = []
    engine = build_engine(make_settings(max_duration_h=1.0))
    assert engine.kind == "embedded"
    transcript, pieces = asyncio.run(both_ways(engine, progress))
    assert transcript.decoder == "greedy" and transcript.duration_s == 12.0
    assert transcript.words and [w for piece in pieces for w in piece] == list(transcript.words)
    assert len(pieces) > 1, "words must stream while the file is transcribed"
    starts = [w.start_s for w in transcript.words]
    assert starts == sorted(starts) and starts[0] >= 0 and transcript.words[-1].end_s <= 12.0
    assert transcript.text == " ".join(w.text for w in transcript.words)
    assert [w for s in transcript.segments for w in s.words] == list(transcript.words)
    assert len(progress) > 2 and progress == sorted(progress) and progress[-1] == 12.0  # seconds done, window by window
    assert progress[0] < 12.0

    server = StandInServer(model_base_path, "tiny", port=0)
    try:
        settings = make_settings(tfserving_address=server.address, grpc_timeout_s=30.0, max_duration_h=1.0)
        engine = build_engine(settings)
        assert engine.kind == "tfserving"
        served, served_pieces = asyncio.run(both_ways(engine))
    finally:
        server.stop()
    assert served.text == transcript.text
    assert [(w.start_s, w.end_s) for w in served.words] == [(w.start_s, w.end_s) for w in transcript.words]
    assert [w for piece in served_pieces for w in piece] == list(served.words)
