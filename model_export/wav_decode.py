"""WAV bytes -> 16 kHz mono float32, in core TensorFlow ops (the `transcribe_wav` signature's front end).

`tf.audio.decode_wav` reads 16-bit PCM only (24-bit, float and JUNK-chunk files fail: tensorflow#30877, #32382);
those are the gateway's job (soundfile + soxr). Anything that is not RIFF/WAVE is rejected before decoding
with a message that says so, instead of decode_wav's "Header mismatch".
"""

from __future__ import annotations

import tensorflow as tf

from model_export.errors import MSG_EMPTY_BATCH, MSG_NOT_WAV
from model_export.resample import resample_to_16k

_HEADER_BYTES = 12  # "RIFF" <chunk size: 4 bytes> "WAVE"


def _check_riff_wave(wav: tf.Tensor) -> tf.Operation:
    """Returns an assertion that the scalar string `wav` starts with a RIFF/WAVE header."""
    # Pad first: substr at position 8 of a shorter string is itself an error with a confusing message.
    head = tf.strings.join([tf.strings.substr(wav, 0, _HEADER_BYTES), "\0" * _HEADER_BYTES])
    is_wav = tf.logical_and(
        tf.equal(tf.strings.substr(head, 0, 4), "RIFF"), tf.equal(tf.strings.substr(head, 8, 4), "WAVE")
    )
    return tf.debugging.Assert(is_wav, [MSG_NOT_WAV])


def decode_wav_16k_mono(wav: tf.Tensor) -> tf.Tensor:
    """Returns one WAV file (scalar string, 16-bit PCM, any channels, a supported rate) as `[samples]` at 16 kHz."""
    with tf.control_dependencies([_check_riff_wave(wav)]):
        decoded = tf.audio.decode_wav(wav, desired_channels=-1)
    # audio: [samples, channels] float32 in [-1, 1); the plain mean is the usual downmix (soundfile/librosa).
    mono = tf.reduce_mean(decoded.audio, axis=1)
    return resample_to_16k(mono, decoded.sample_rate)


def decode_wav_batch(wav: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Returns `(audio [batch, samples] float32 zero-padded, audio_length [batch] int32)` at 16 kHz.

    `wav` is `[batch]` string of WAV file bytes; each file may have its own rate and channel count.
    """
    batch_size = tf.size(wav)
    check = tf.debugging.assert_greater(batch_size, 0, message=MSG_EMPTY_BATCH)
    with tf.control_dependencies([check]):
        wav = tf.reshape(wav, [-1])
    ragged = tf.map_fn(
        decode_wav_16k_mono,
        wav,
        fn_output_signature=tf.RaggedTensorSpec(shape=[None], dtype=tf.float32, ragged_rank=0),
    )
    audio_length = tf.cast(ragged.row_lengths(), tf.int32)
    return ragged.to_tensor(0.0), audio_length
