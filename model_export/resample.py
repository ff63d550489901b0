"""Band-limited resampling to 16 kHz written with core TensorFlow ops only, so it runs inside stock TF Serving.

tensorflow-io's `AudioResample` is not registered in TF Serving binaries (tensorflow/io#1268), so the
`transcribe_wav` signature resamples with a Kaiser-windowed-sinc polyphase filter expressed as one strided
`tf.nn.conv1d`. For a rational ratio `up/down = 16000/rate` (reduced by their gcd), output sample
`n = m*up + r` sits at input time `m*down + r*down/up`: each of the `up` phases `r` is a fixed FIR filter applied
at stride `down`, i.e. a conv1d with `up` output channels whose channel-major output, flattened, is the
resampled signal. A conv stride is a static attribute, so each supported rate gets its own constant filter
bank and `tf.switch_case` picks it at run time; other rates are rejected with a clear InvalidArgument error.

Filter design (why the constants are what they are):
- Cutoff: the filter must stop everything above the lower of the two Nyquist frequencies,
  `nyquist_hz = min(rate, 16000) / 2` (above the output Nyquist when decimating, the images above the input
  Nyquist when interpolating).
- Kaiser's formulas (Oppenheim & Schafer, 7.6): for stopband attenuation `A` dB, `beta = 0.1102 (A - 8.7)`
  and the transition width of a window `L` seconds long is `(A - 7.95) / (14.36 L)` Hz.
- We take `A = 80 dB` (below 16-bit quantisation noise of typical speech, and ~20 dB below the level at
  which a logit moves visibly) and `NUM_ZEROS = 32` sinc zero-crossings per side, so `L = NUM_ZEROS / cutoff_hz`.
  The cutoff (the -6 dB point, middle of the transition band) is placed so that the stopband *begins exactly
  at* `nyquist_hz`: `cutoff = nyquist / (1 + (A - 7.95) / (28.72 NUM_ZEROS))` = 0.927 * nyquist. Nothing above
  the Nyquist frequency aliases by more than -80 dB, and the passband is flat to ~0.85 * nyquist
  (6.8 kHz when decimating to 16 kHz), above the band that carries speech information for the model.
- Cost: about `2 * NUM_ZEROS * rate / (2 * cutoff)` taps per output sample (~190 at 44.1 kHz),
  negligible next to the model.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from model_export.errors import MSG_UNSUPPORTED_RATE
from wav2vec2.feature_extractor import SAMPLE_RATE_HZ

TARGET_RATE_HZ = SAMPLE_RATE_HZ  # the model's input rate
# Rates a WAV file may have: telephony, the CD/DAT families and their multiples, and 16 kHz itself.
SUPPORTED_RATES_HZ = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000)

STOPBAND_ATTENUATION_DB = 80.0
NUM_ZEROS = 32
KAISER_BETA = 0.1102 * (STOPBAND_ATTENUATION_DB - 8.7)
ROLLOFF = 1.0 / (1.0 + (STOPBAND_ATTENUATION_DB - 7.95) / (28.72 * NUM_ZEROS))


def resample_ratio(rate_hz: int) -> tuple[int, int]:
    """Returns `(up, down)`, the reduced ratio `TARGET_RATE_HZ / rate_hz`."""
    g = math.gcd(TARGET_RATE_HZ, rate_hz)
    return TARGET_RATE_HZ // g, rate_hz // g


def output_length(num_samples: int | tf.Tensor, rate_hz: int) -> int | tf.Tensor:
    """Returns the resampled length, `round(num_samples * 16000 / rate_hz)` (the length soxr gives)."""
    up, down = resample_ratio(rate_hz)
    return (2 * num_samples * up + down) // (2 * down)


def filter_bank(rate_hz: int) -> tuple[tf.Tensor, int]:
    """Returns the polyphase filter bank `[taps, up]` (float32) and the offset of tap 0 in input samples.

    Column `r` holds the windowed-sinc weights for output phase `r`: tap `i` multiplies input sample
    `m*down + offset + i` for output `m*up + r`. Computed with graph ops rather than stored as constants: the
    banks of all supported rates would add ~8 MB to every exported `saved_model.pb` (twice, once per trace).
    """
    up, down = resample_ratio(rate_hz)
    cutoff_hz = ROLLOFF * min(rate_hz, TARGET_RATE_HZ) / 2.0
    half_width = NUM_ZEROS / (2.0 * cutoff_hz) * rate_hz  # in input samples
    first = math.ceil(-half_width)
    last = math.floor((up - 1) * down / up + half_width)
    taps = tf.range(first, last + 1, dtype=tf.float64)[:, None]  # input offset j
    phase_time = (tf.range(up, dtype=tf.float64) * down / up)[None, :]  # r*down/up
    u = phase_time - taps  # distance from output instant to input sample, in input samples
    scale = 2.0 * cutoff_hz / rate_hz
    inside = tf.abs(u) <= half_width
    window_arg = KAISER_BETA * tf.sqrt(tf.clip_by_value(1.0 - tf.square(u / half_width), 0.0, 1.0))
    window = tf.math.special.bessel_i0(window_arg) / float(np.i0(KAISER_BETA))
    bank = tf.where(inside, scale * tf.experimental.numpy.sinc(scale * u) * window, tf.zeros_like(u))
    return tf.cast(bank, tf.float32), first


def _resample_fixed_rate(audio: tf.Tensor, rate_hz: int) -> tf.Tensor:
    """Returns `audio` (`[samples]` float32 at `rate_hz`) resampled to 16 kHz with a constant filter bank."""
    if rate_hz == TARGET_RATE_HZ:
        return audio
    up, down = resample_ratio(rate_hz)
    bank, first = filter_bank(rate_hz)
    num_taps = int(bank.shape[0])  # static: tf.range over Python ints
    num_in = tf.shape(audio, out_type=tf.int64)[0]
    num_out = output_length(num_in, rate_hz)
    # At least one block, so that even an empty input gives a valid (then sliced-away) convolution.
    num_blocks = tf.maximum((num_out + up - 1) // up, 1)
    # Zeros before the first sample (negative tap offsets) and after the last, so every block is complete.
    pad_right = tf.maximum((num_blocks - 1) * down + num_taps + first - num_in, 0)
    padded = tf.pad(audio, [[-first, pad_right]])
    # [1, samples, 1] conv [taps, 1, up] at stride `down` -> [1, blocks, up]; flattening interleaves the phases.
    phases = tf.nn.conv1d(padded[None, :, None], bank[:, None, :], stride=down, padding="VALID")
    return tf.reshape(phases, [-1])[:num_out]


def resample_to_16k(audio: tf.Tensor, sample_rate_hz: tf.Tensor) -> tf.Tensor:
    """Returns mono `audio` (`[samples]` float32) resampled from `sample_rate_hz` (int32 scalar) to 16 kHz.

    Raises InvalidArgumentError (at run time, also inside TF Serving) for a rate outside `SUPPORTED_RATES_HZ`.
    """
    rates = tf.constant(SUPPORTED_RATES_HZ, dtype=tf.int32)
    is_rate = tf.equal(rates, tf.cast(sample_rate_hz, tf.int32))
    check = tf.debugging.Assert(
        tf.reduce_any(is_rate),
        [f"{MSG_UNSUPPORTED_RATE}; got (Hz):", sample_rate_hz, "supported:", rates],
    )
    with tf.control_dependencies([check]):
        branch = tf.argmax(tf.cast(is_rate, tf.int32), output_type=tf.int32)
    branches = [lambda rate=rate: _resample_fixed_rate(audio, rate) for rate in SUPPORTED_RATES_HZ]
    return tf.switch_case(branch, branches)
