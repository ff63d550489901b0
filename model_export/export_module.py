"""The `tf.Module` whose three signatures are the SavedModel's serving interface (see model_export/README.md).

Everything a request needs runs in the graph: input checks, normalisation over the valid samples, the model
(masked by `audio_length`, because TF Serving's batcher pads with each tensor's first element, not zero),
greedy CTC and ids -> text. Each step is the `wav2vec2` library's own TF function, so the Python processor and
the SavedModel cannot drift apart.
"""

from __future__ import annotations

import functools

import tensorflow as tf

from model_export.contract import (
    AUDIO,
    AUDIO_LENGTH,
    CONV_FEATURES_SIGNATURE,
    FEATURE_LENGTH,
    FEATURE_LOGITS_SIGNATURE,
    FEATURES,
    FIRST_FRAME,
    LOGIT_LENGTH,
    LOGITS,
    LOGITS_SIGNATURE,
    SERVING_SIGNATURE,
    TRANSCRIBE_WAV_SIGNATURE,
    TRANSCRIPT,
    WAV,
)
from model_export.errors import (
    MSG_EMPTY_BATCH,
    MSG_LENGTH_BATCH_MISMATCH,
    MSG_LENGTH_TOO_LONG,
    MSG_NEGATIVE_LENGTH,
    MSG_NOT_FINITE,
)
from model_export.wav_decode import decode_wav_batch
from wav2vec2.ctc_decode import ctc_greedy_decode
from wav2vec2.feature_extractor import SAMPLE_RATE_HZ
from wav2vec2.lengths import frame_lengths, receptive_field
from wav2vec2.model import Wav2Vec2ForCTC
from wav2vec2.normalize import normalize_audio, sample_mask
from wav2vec2.processor import Wav2Vec2Processor

AUDIO_SPEC = tf.TensorSpec([None, None], tf.float32, name=AUDIO)
AUDIO_LENGTH_SPEC = tf.TensorSpec([None], tf.int32, name=AUDIO_LENGTH)
WAV_SPEC = tf.TensorSpec([None], tf.string, name=WAV)
FIRST_FRAME_SPEC = tf.TensorSpec([], tf.int32, name=FIRST_FRAME)
FEATURE_LENGTH_SPEC = tf.TensorSpec([None], tf.int32, name=FEATURE_LENGTH)

# The graph code uses TF ops for all tensor-dependent control flow, so autograph's source conversion would only
# add tracing time (model_export/README.md, "Tracing"); a Python `if` on a tensor fails the trace loudly.
AUTOGRAPH = False

# Fills `token_ids` past each row's `token_count`: not a vocabulary id, so it cannot be mistaken for one.
TOKEN_PAD_ID = -1


def check_audio_batch(audio: tf.Tensor, audio_length: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Returns `(audio, audio_length)` once they pass the request checks, else raises InvalidArgumentError."""
    # audio: [batch, samples] float32; audio_length: [batch] int32
    batch_size, num_samples = tf.shape(audio)[0], tf.shape(audio)[1]
    checks = [
        tf.debugging.assert_greater(batch_size, 0, message=MSG_EMPTY_BATCH),
        tf.debugging.assert_equal(tf.shape(audio_length)[0], batch_size, message=MSG_LENGTH_BATCH_MISMATCH),
        tf.debugging.assert_non_negative(audio_length, message=MSG_NEGATIVE_LENGTH),
        tf.debugging.assert_less_equal(audio_length, num_samples, message=MSG_LENGTH_TOO_LONG),
        tf.debugging.assert_all_finite(audio, message=MSG_NOT_FINITE),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(audio), tf.identity(audio_length)


class ServingModule(tf.Module):
    """Holds the model's weights and builds the `serving_default`, `transcribe_wav` and `logits` signatures, and
    the model's two halves `conv_features` and `logits_from_features` (a live stream's feature cache).

    What a load rebuilds is kept to what serving needs: the weights and one traced copy of each function. The
    Keras model is held outside TF's tracking (in a `functools.partial`); tracked, it would save its ~940 layer
    objects and a Keras default serving function per `keras.Model`, traced and never called. The model itself
    runs in one function, `compute_logits`, that the three signatures call, so the graph holds it once (what that
    saves in load and export time: model_export/README.md).
    """

    def __init__(self, model: Wav2Vec2ForCTC, processor: Wav2Vec2Processor) -> None:
        super().__init__(name="wav2vec2_serving")
        tokenizer = processor.tokenizer
        if processor.sampling_rate != SAMPLE_RATE_HZ:
            raise ValueError(f"the processor expects {processor.sampling_rate} Hz audio; the graph feeds 16 kHz")
        if tokenizer.vocab_size != model.config.vocab_size:
            raise ValueError(
                f"the tokenizer has {tokenizer.vocab_size} tokens but the model's CTC head has "
                f"{model.config.vocab_size} outputs"
            )
        self.weights = list(model.weights)  # tracked: what the SavedModel's variables restore
        self._run_model = functools.partial(model, training=False)  # untracked: see the class docstring
        # The model's two halves, for a stream's feature cache (untracked likewise).
        self._features_from = functools.partial(model.wav2vec2.feature_extractor.features_from)
        self._logits_from_features = functools.partial(model.logits_from_features)
        self._config = model.config
        self._tokenizer = tokenizer  # not trackable: its tables become graph constants when traced
        self._do_normalize = processor.feature_extractor.do_normalize
        # Rows shorter than the receptive field have 0 frames; the batch itself must still give one conv output.
        self._min_samples = receptive_field(model.config)
        self._frame_duration_s = float(model.config.total_stride) / SAMPLE_RATE_HZ
        self._features_spec = tf.TensorSpec([None, None, model.config.conv_dim[-1]], tf.float32, name=FEATURES)
        self.compute_logits = tf.function(
            self._compute_logits, input_signature=[AUDIO_SPEC, AUDIO_LENGTH_SPEC], autograph=AUTOGRAPH
        )

    def _model_input(self, audio: tf.Tensor, audio_length: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Returns the checked, normalised `(audio, audio_length)` the model takes (the processor's job, in-graph)."""
        audio, audio_length = check_audio_batch(audio, audio_length)
        audio = tf.pad(audio, [[0, 0], [0, tf.maximum(self._min_samples - tf.shape(audio)[1], 0)]])
        if self._do_normalize:
            return normalize_audio(audio, audio_length), audio_length  # also zeroes the padding
        return tf.where(sample_mask(audio_length, tf.shape(audio)[1]), audio, 0.0), audio_length

    def _compute_logits(self, audio: tf.Tensor, audio_length: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Returns `(logits [batch, frames, vocab] float32, logit_length [batch] int32)` for checked audio."""
        audio, audio_length = self._model_input(audio, audio_length)
        logits = self._run_model(audio, audio_length=audio_length)
        return logits, frame_lengths(audio_length, self._config)

    def transcribe(self, audio: tf.Tensor, audio_length: tf.Tensor) -> dict[str, tf.Tensor]:
        """Returns the `serving_default` outputs: transcript, token ids, their start frames, count, confidence."""
        logits, logit_length = self.compute_logits(audio, audio_length)
        ids, frames = ctc_greedy_decode(logits, logit_length, self._tokenizer.pad_token_id)
        # Confidence: geometric mean over valid frames of the greedy path's per-frame probability.
        best_log_prob = tf.reduce_max(tf.nn.log_softmax(logits, axis=-1), axis=-1)
        valid = tf.sequence_mask(logit_length, maxlen=tf.shape(logits)[1], dtype=tf.float32)
        num_valid = tf.reduce_sum(valid, axis=1)
        mean_log_prob = tf.reduce_sum(best_log_prob * valid, axis=1) / tf.maximum(num_valid, 1.0)
        confidence = tf.where(num_valid > 0, tf.exp(mean_log_prob), 0.0)
        return {
            TRANSCRIPT: self._tokenizer.greedy_text_tf(logits, logit_length),
            "token_ids": ids.to_tensor(default_value=TOKEN_PAD_ID),
            "token_frames": frames.to_tensor(default_value=TOKEN_PAD_ID),
            "token_count": tf.cast(ids.row_lengths(), tf.int32),
            # Seconds per logit frame, so a client turns token_frames into timestamps without the config.
            "frame_duration_s": tf.fill(tf.shape(logit_length), self._frame_duration_s),
            "confidence": confidence,
            LOGIT_LENGTH: logit_length,
        }

    def transcribe_wav(self, wav: tf.Tensor) -> dict[str, tf.Tensor]:
        audio, audio_length = decode_wav_batch(wav)
        outputs = self.transcribe(audio, audio_length)
        outputs[AUDIO_LENGTH] = audio_length  # 16 kHz samples after resampling: lets a client get durations
        return outputs

    def logits(self, audio: tf.Tensor, audio_length: tf.Tensor) -> dict[str, tf.Tensor]:
        logits, logit_length = self.compute_logits(audio, audio_length)
        return {LOGITS: logits, LOGIT_LENGTH: logit_length}

    def conv_features(self, audio: tf.Tensor, audio_length: tf.Tensor, first_frame: tf.Tensor) -> dict[str, tf.Tensor]:
        """Returns the conv features of frames `first_frame`.. of the audio, normalised as the whole of it."""
        audio, audio_length = self._model_input(audio, audio_length)
        first_frame = tf.maximum(first_frame, 0)
        features = self._features_from(audio, audio_length, first_frame)
        feature_length = tf.maximum(frame_lengths(audio_length, self._config) - first_frame, 0)
        return {FEATURES: tf.cast(features, tf.float32), FEATURE_LENGTH: feature_length}

    def logits_from_features(self, features: tf.Tensor, feature_length: tf.Tensor) -> dict[str, tf.Tensor]:
        logits = self._logits_from_features(features, feature_length)
        return {LOGITS: logits, LOGIT_LENGTH: feature_length}

    def signatures(self) -> dict[str, tf.types.experimental.PolymorphicFunction]:
        """Returns the signature map for `tf.saved_model.save`.

        Functions made here, not attributes of the module: `save` traces a signature and a function attribute
        in different contexts, so an attribute that is also a signature is saved twice.
        """
        return {
            SERVING_SIGNATURE: tf.function(
                self.transcribe, input_signature=[AUDIO_SPEC, AUDIO_LENGTH_SPEC], autograph=AUTOGRAPH
            ),
            TRANSCRIBE_WAV_SIGNATURE: tf.function(self.transcribe_wav, input_signature=[WAV_SPEC], autograph=AUTOGRAPH),
            LOGITS_SIGNATURE: tf.function(
                self.logits, input_signature=[AUDIO_SPEC, AUDIO_LENGTH_SPEC], autograph=AUTOGRAPH
            ),
            CONV_FEATURES_SIGNATURE: tf.function(
                self.conv_features, input_signature=[AUDIO_SPEC, AUDIO_LENGTH_SPEC, FIRST_FRAME_SPEC],
                autograph=AUTOGRAPH,
            ),
            FEATURE_LOGITS_SIGNATURE: tf.function(
                self.logits_from_features, input_signature=[self._features_spec, FEATURE_LENGTH_SPEC],
                autograph=AUTOGRAPH,
            ),
        }  # fmt: skip
