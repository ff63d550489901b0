"""Audio files into model input: decoding (WAV, FLAC, OGG/Vorbis/Opus, MP3), downmixing and resampling.

    from audio_input import load_audio, AudioError
    audio = load_audio("speech.mp3", sample_rate_hz=16_000, max_duration_s=600)   # audio.samples: [samples]

The one loader of the gateway, the CLI, the TFRecord writer and the demo corpus, so served and trained-on audio
are made the same way. No TensorFlow and nothing else of ours: the slim gateway imports it, and the target rate
is the caller's (the model's, `wav2vec2.SAMPLE_RATE_HZ`).
"""

from audio_input.decode import AudioSource, DecodedAudio, load_audio
from audio_input.errors import (
    AudioDecodeError,
    AudioError,
    AudioTooLongError,
    EmptyAudioError,
    NonFiniteAudioError,
    TruncatedAudioError,
    UnsupportedAudioFormatError,
)

__all__ = [
    "AudioDecodeError",
    "AudioError",
    "AudioSource",
    "AudioTooLongError",
    "DecodedAudio",
    "EmptyAudioError",
    "NonFiniteAudioError",
    "TruncatedAudioError",
    "UnsupportedAudioFormatError",
    "load_audio",
]
