"""AdamW whose Adam step is TensorFlow's one-op Adam kernel: Keras' AdamW numbers in fewer passes over memory."""

from __future__ import annotations

import keras
import tensorflow as tf

# The variable dtypes TensorFlow's CPU and GPU Adam kernels are registered for.
KERNEL_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)


@keras.saving.register_keras_serializable(package="training")
class FusedAdamW(keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` with each variable's Adam update in one `ResourceApplyAdam` op.

    Keras writes the update as about ten elementwise ops per variable, each a pass over a weight-sized tensor; on a
    94 M-parameter model that is most of an optimizer step's time on CPU. TensorFlow's kernel computes the same
    formula (Keras copied it: `lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)`, `var -= lr_t * m / (sqrt(v) +
    epsilon)`) in one pass. Weight decay, schedules, clipping, loss scaling and `tf.distribute` stay Keras' own:
    only `update_step` changes, and what the kernel cannot take (amsgrad, sparse gradients, other dtypes) falls
    back to Keras' form.
    """

    def update_step(self, gradient: tf.Tensor, variable: tf.Variable, learning_rate: tf.Tensor) -> None:
        if self.amsgrad or isinstance(gradient, tf.IndexedSlices) or variable.dtype not in KERNEL_DTYPES:
            super().update_step(gradient, variable, learning_rate)
            return
        index = self._get_variable_index(variable)
        momentum, velocity = self._momentums[index].value, self._velocities[index].value
        dtype = variable.dtype
        local_step = tf.cast(self.iterations + 1, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=momentum.handle,
            v=velocity.handle,
            beta1_power=tf.pow(tf.cast(self.beta_1, dtype), local_step),
            beta2_power=tf.pow(tf.cast(self.beta_2, dtype), local_step),
            lr=tf.cast(learning_rate, dtype),
            beta1=tf.cast(self.beta_1, dtype),
            beta2=tf.cast(self.beta_2, dtype),
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype),
        )
