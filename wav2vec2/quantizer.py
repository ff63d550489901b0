"""The Gumbel-softmax vector quantizer: conv features → one codevector per group, concatenated (paper §2)."""

from __future__ import annotations

import keras
import tensorflow as tf


def codebook_perplexity(probs: tf.Tensor, mask: tf.Tensor | None = None) -> tf.Tensor:
    """Σ over groups of exp(entropy of the codeword distribution averaged over the (masked) frames).

    HF's `_compute_perplexity`: G × V when every codeword is used equally often, G when one per group is.
    """
    # probs: [frames, groups, entries]; mask: [frames] bool
    if mask is None:
        marginal = tf.reduce_mean(probs, axis=0)
    else:
        weights = tf.cast(mask, probs.dtype)[:, None, None]
        marginal = tf.reduce_sum(probs * weights, axis=0) / tf.reduce_sum(weights)
    return tf.reduce_sum(tf.exp(-tf.reduce_sum(tf.math.xlogy(marginal, marginal), axis=-1)))


class GumbelVectorQuantizer(keras.layers.Layer):
    """`weight_proj` scores G × V codewords per frame; training picks one per group by hard Gumbel-softmax
    (straight-through gradients) at `temperature`, inference by argmax.

    Weights in HF's layout: `codevectors` is `[1, G * V, codevector_dim / G]`. `temperature` is a non-trainable
    variable so a schedule can anneal it inside a compiled step and checkpoints keep it.
    """

    def __init__(
        self, num_groups: int, num_vars: int, codevector_dim: int, temperature: float = 2.0, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)
        if codevector_dim % num_groups:
            raise ValueError(f"codevector_dim={codevector_dim} is not divisible by num_groups={num_groups}")
        self.num_groups = num_groups
        self.num_vars = num_vars
        self.codevector_dim = codevector_dim
        self.initial_temperature = temperature
        # HF's init: N(0, 1) projection, zero bias, U(0, 1) codevectors.
        self.weight_proj = keras.layers.Dense(
            num_groups * num_vars,
            kernel_initializer=keras.initializers.RandomNormal(stddev=1.0),
            bias_initializer="zeros",
            name="weight_proj",
        )

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.weight_proj.build(input_shape)
        self.codevectors = self.add_weight(
            name="codevectors",
            shape=(1, self.num_groups * self.num_vars, self.codevector_dim // self.num_groups),
            initializer=keras.initializers.RandomUniform(0.0, 1.0),
        )
        self.temperature = self.add_weight(
            name="temperature",
            shape=(),
            initializer=keras.initializers.Constant(self.initial_temperature),
            trainable=False,
        )

    def call(
        self, features: tf.Tensor, mask_time_indices: tf.Tensor | None = None, training: bool | None = None
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Returns (codevectors `[batch, frames, codevector_dim]`, perplexity, codeword ids `[batch, frames, G]`).

        The perplexity is over `mask_time_indices` frames (all frames without it): of the soft distribution in
        training, of the one-hot choices in inference, as HF.
        """
        # features: [batch, frames, conv_dim[-1]]
        batch, frames = tf.shape(features)[0], tf.shape(features)[1]
        scores = tf.cast(self.weight_proj(features), tf.float32)
        scores = tf.reshape(scores, [batch * frames, self.num_groups, self.num_vars])
        mask = None if mask_time_indices is None else tf.reshape(tf.cast(mask_time_indices, tf.bool), [-1])
        if training:
            uniform = tf.random.uniform(tf.shape(scores), minval=1e-10, maxval=1.0)
            gumbels = -tf.math.log(-tf.math.log(uniform))
            soft = tf.nn.softmax((scores + gumbels) / tf.cast(self.temperature, tf.float32), axis=-1)
            ids = tf.argmax(soft, axis=-1, output_type=tf.int32)
            hard = tf.one_hot(ids, self.num_vars, dtype=tf.float32)
            probs = hard - tf.stop_gradient(soft) + soft  # straight-through estimator
            perplexity = codebook_perplexity(tf.nn.softmax(scores, axis=-1), mask)
        else:
            ids = tf.argmax(scores, axis=-1, output_type=tf.int32)
            probs = tf.one_hot(ids, self.num_vars, dtype=tf.float32)
            perplexity = codebook_perplexity(probs, mask)
        group_dim = self.codevector_dim // self.num_groups
        codebooks = tf.reshape(tf.cast(self.codevectors, tf.float32), [self.num_groups, self.num_vars, group_dim])
        # [frames, G, V] × [G, V, D/G] → [frames, G, D/G]: each group's chosen codeword
        codevectors = tf.einsum("ngv,gvd->ngd", probs, codebooks)
        codevectors = tf.reshape(codevectors, [batch, frames, self.codevector_dim])
        return codevectors, perplexity, tf.reshape(ids, [batch, frames, self.num_groups])

    def get_config(self) -> dict[str, object]:
        return {
            **super().get_config(),
            "num_groups": self.num_groups,
            "num_vars": self.num_vars,
            "codevector_dim": self.codevector_dim,
            "temperature": self.initial_temperature,
        }
