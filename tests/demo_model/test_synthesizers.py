"""Each synthesizer gives 16 kHz mono speech of a plausible length; a bad voice is a typed error."""

from __future__ import annotations

import random
import shutil

import numpy as np
import pytest
import soundfile as sf

from demo_model.synth import (
    SAMPLE_RATE_HZ,
    SynthesisError,
    Voice,
    espeak_variants,
    eval_voices,
    random_training_voice,
    read_16k_mono,
    synthesize,
    write_16k_wav,
)

VOICES = [
    pytest.param(Voice("espeak-ng", "en-us+f3", rate_wpm=170, pitch=60), id="espeak-ng"),
    pytest.param(Voice("flite", "kal"), id="flite-kal-8kHz"),
    pytest.param(Voice("flite", "slt", duration_stretch=1.2), id="flite-slt"),
    *[pytest.param(voice, id=voice.name) for voice in eval_voices()],
]


def _installed(voice: Voice) -> bool:
    return shutil.which({"festival": "text2wave"}.get(voice.engine, voice.engine)) is not None


@pytest.mark.parametrize("voice", VOICES)
def test_synthesized_speech_is_16k_mono_and_not_silent(voice: Voice, tmp_path) -> None:
    if not _installed(voice):
        pytest.skip(f"{voice.engine} not installed (python -m demo_model.build_corpus installs it)")
    audio = synthesize(voice, "SEVEN TWO NINE")
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 0.5 < audio.shape[0] / SAMPLE_RATE_HZ < 4.0
    assert np.sqrt(np.mean(audio**2)) > 0.01
    path = tmp_path / "clip.wav"
    write_16k_wav(path, audio)
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE_HZ, 1, "PCM_16")
    np.testing.assert_allclose(read_16k_mono(path), audio, atol=1e-4)


def test_unknown_espeak_voice_is_a_synthesis_error_not_a_silent_fallback() -> None:
    with pytest.raises(SynthesisError, match="en-us[+]nobody"):
        synthesize(Voice("espeak-ng", "en-us+nobody"), "ONE")
    with pytest.raises(SynthesisError, match="no-such-voice"):
        synthesize(Voice("espeak-ng", "no-such-voice"), "ONE")


def test_training_voices_never_use_an_eval_voice() -> None:
    rng = random.Random(0)
    voices = [random_training_voice(rng, espeak_variants()) for _ in range(300)]
    assert {voice.engine for voice in voices} == {"espeak-ng", "flite", "festival"}
    assert not {voice.name for voice in voices} & {voice.name for voice in eval_voices()}
    assert len({voice.name for voice in voices}) > 50
