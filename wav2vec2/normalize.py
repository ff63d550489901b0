"""Zero-mean unit-variance audio normalisation over the valid samples only (HF's Wav2Vec2FeatureExtractor)."""

from __future__ import annotations

import tensorflow as tf

# Hugging Face's feature extractor uses sqrt(var + 1e-7); the seed's TF library used 1e-5, which shifts logits.
NORMALIZE_EPSILON = 1e-7


def sample_mask(audio_length: tf.Tensor, num_samples: tf.Tensor | int) -> tf.Tensor:
    """`[batch, samples]` bool: True on the valid samples of each row."""
    return tf.sequence_mask(audio_length, maxlen=num_samples)


def normalize_audio(audio: tf.Tensor, audio_length: tf.Tensor | None = None) -> tf.Tensor:
    """Each row standardised with the mean and (biased) variance of its first `audio_length` samples; padding → 0.

    Padding must not enter the statistics: otherwise a padded batch gives other logits than one call per
    utterance (and TF Serving pads with the first element, not zero).
    """
    # audio: [batch, samples] float32; audio_length: [batch] int32
    audio = tf.convert_to_tensor(audio, tf.float32)
    if audio_length is None:
        audio_length = tf.fill(tf.shape(audio)[:1], tf.shape(audio)[1])
    mask = tf.cast(sample_mask(audio_length, tf.shape(audio)[1]), audio.dtype)
    count = tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1.0)
    mean = tf.reduce_sum(audio * mask, axis=1, keepdims=True) / count
    centered = (audio - mean) * mask
    variance = tf.reduce_sum(tf.square(centered), axis=1, keepdims=True) / count
    return centered * tf.math.rsqrt(variance + NORMALIZE_EPSILON)
