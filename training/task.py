"""CTCTask: a single-replica view of CTC training (model, inputs, loss, one step's gradients, eval logits).

The shape of tensorflow/models' `official/core` Task: the trainer owns the strategy and the loop and calls
these methods inside `strategy.run`; nothing here knows how many replicas there are except through the
global batch size it is given.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from training.base_task import ModelTask, loss_gradients
from training.config import TrainConfig
from training.data.pipeline import InputConfig, build_dataset
from wav2vec2 import (
    CTCLoss,
    Wav2Vec2Config,
    Wav2Vec2CTCTokenizer,
    Wav2Vec2ForCTC,
    Wav2Vec2Processor,
    normalize_audio,
)
from wav2vec2.ctc_loss import LABEL_PAD_ID
from wav2vec2.hub import resolve_checkpoint_dir
from wav2vec2.lengths import frame_lengths

logger = logging.getLogger(__name__)

# Evaluation reads every utterance; this bound only sizes the last length bucket (an hour of audio).
EVAL_MAX_DURATION_S = 3600.0


def reset_ctc_head(model: Wav2Vec2ForCTC, seed: int = 0) -> None:
    """Re-initialises `lm_head` (Glorot kernel, zero bias): a new vocabulary must not reuse old rows."""
    kernel, bias = model.lm_head.kernel, model.lm_head.bias
    kernel.assign(keras.initializers.GlorotUniform(seed=seed)(kernel.shape))
    bias.assign(np.zeros(bias.shape, np.float32))


def model_with_new_vocab(
    pretrained: str, tokenizer: Wav2Vec2CTCTokenizer, **config_overrides: object
) -> Wav2Vec2ForCTC:
    """Returns a pretrained body with a CTC head for `tokenizer`'s vocabulary.

    The head keeps the checkpoint's weights only when the checkpoint's own vocab.json is the same mapping;
    any other vocabulary (even one of the same size) gets a freshly initialised head.
    """
    directory = resolve_checkpoint_dir(pretrained)
    model = Wav2Vec2ForCTC.from_pretrained(
        directory, vocab_size=tokenizer.vocab_size, pad_token_id=tokenizer.pad_token_id, **config_overrides
    )
    vocab_file = Path(directory) / "vocab.json"
    same_vocab = vocab_file.exists() and Wav2Vec2CTCTokenizer.from_vocab_file(vocab_file).vocab == tokenizer.vocab
    if not same_vocab:
        logger.info("new vocabulary of %d tokens: fresh CTC head", tokenizer.vocab_size)
        reset_ctc_head(model)
    return model


def batch_logits(model: Wav2Vec2ForCTC, batch: dict[str, tf.Tensor], training: bool) -> tf.Tensor:
    """Returns `[batch, frames, vocab]` float32 logits of a pipeline batch, normalised as at serving time."""
    audio = normalize_audio(batch["audio"], batch["audio_length"])
    return model(audio, audio_length=batch["audio_length"], training=training)


def eval_dataset(
    file_pattern: str, tokenizer: Wav2Vec2CTCTokenizer, model_config: Wav2Vec2Config, batch_size: int
) -> tf.data.Dataset:
    """Returns every utterance of a split once, in order, with its text: evaluation drops nothing."""
    input_config = InputConfig(
        file_pattern=file_pattern,
        global_batch_size=batch_size,
        training=False,
        max_duration_s=EVAL_MAX_DURATION_S,
        filter_unalignable=False,
        deterministic=True,
        keep_text=True,
    )
    return build_dataset(input_config, tokenizer, lambda n: frame_lengths(n, model_config))


def train_input_config(
    config: TrainConfig, file_pattern: str, input_context: tf.distribute.InputContext | None = None
) -> InputConfig:
    """Returns how a run reads its training split: the run's batch, duration, bucketing and shuffle options."""
    replicas = input_context.num_replicas_in_sync if input_context else 1
    return InputConfig(
        file_pattern=file_pattern,
        global_batch_size=config.batch_size * replicas,
        training=True,
        shuffle_buffer=config.shuffle_buffer,
        min_duration_s=config.min_duration_s,
        max_duration_s=config.max_duration_s,
        bucket_boundaries_s=config.bucket_boundaries_s,
        fixed_shape=config.fixed_shape,
        max_label_length=config.max_label_length,
        deterministic=config.deterministic,
        seed=config.seed,
    )


class CTCTask(ModelTask):
    """Builds the model and inputs of a run, and computes its loss and gradients on one replica."""

    def __init__(self, config: TrainConfig) -> None:
        super().__init__(config)
        self.tokenizer = self._build_tokenizer()
        self.loss_fn = CTCLoss(
            blank_id=self.tokenizer.pad_token_id, reduction_mode=config.ctc_loss_reduction, zero_infinity=True
        )

    def _build_tokenizer(self) -> Wav2Vec2CTCTokenizer:
        if self.config.vocab:
            return Wav2Vec2CTCTokenizer.from_vocab_file(self.config.vocab)
        if self.config.pretrained:
            directory = resolve_checkpoint_dir(self.config.pretrained)
            if (directory / "vocab.json").exists():
                return Wav2Vec2CTCTokenizer.from_pretrained(directory)
        return Wav2Vec2CTCTokenizer()

    def pretrained_model(self, pretrained: str, overrides: dict[str, object]) -> Wav2Vec2ForCTC:
        return model_with_new_vocab(pretrained, self.tokenizer, **overrides)

    def new_model(self, model_config: Wav2Vec2Config) -> Wav2Vec2ForCTC:
        vocabulary = dict(vocab_size=self.tokenizer.vocab_size, pad_token_id=self.tokenizer.pad_token_id)
        return Wav2Vec2ForCTC(model_config.replace(**vocabulary))

    def build_inputs(
        self, file_pattern: str, training: bool, input_context: tf.distribute.InputContext | None = None
    ) -> tf.data.Dataset:
        """Returns per-replica batches of a split (the model must be built first: frames need its config)."""
        config = self.config
        if not training:
            return eval_dataset(file_pattern, self.tokenizer, self.model_config, config.eval_batch_size)
        input_config = train_input_config(config, file_pattern, input_context)
        return build_dataset(input_config, self.tokenizer, self.frame_length_fn, input_context)

    def logits(self, model: Wav2Vec2ForCTC, batch: dict[str, tf.Tensor], training: bool) -> tf.Tensor:
        return batch_logits(model, batch, training)

    def per_example_loss(self, batch: dict[str, tf.Tensor], logits: tf.Tensor) -> tf.Tensor:
        """Returns `[batch]` CTC losses with the frame counts of each utterance, not of the padded batch."""
        labels = tf.where(
            tf.sequence_mask(batch["label_length"], tf.shape(batch["labels"])[1]), batch["labels"], LABEL_PAD_ID
        )
        return self.loss_fn.per_utterance(labels, logits, self.frame_length_fn(batch["audio_length"]))

    def on_step_begin(self, model: Wav2Vec2ForCTC, step: int) -> None:
        """Nothing changes with the step in CTC training (the learning rate is the optimizer's schedule)."""

    def gradients(
        self, model: Wav2Vec2ForCTC, batch: dict[str, tf.Tensor], global_batch_size: int, loss_scale: tf.Tensor
    ) -> tuple[tf.Tensor, list[tf.Tensor], dict[str, tf.Tensor]]:
        """Returns (this replica's share of the mean loss, its gradients of `loss × loss_scale`, no metrics).

        The loss is divided by the *global* batch size, so summing the replicas' gradients gives the gradient
        of the global mean (the trainer's all-reduce does that sum).
        """

        def compute_loss() -> tf.Tensor:
            logits = self.logits(model, batch, training=True)
            return tf.reduce_sum(self.per_example_loss(batch, logits)) / global_batch_size

        loss, grads = loss_gradients(model, compute_loss, loss_scale)
        return loss, grads, {}

    def save_pretrained(self, model: Wav2Vec2ForCTC, directory: Path) -> None:
        """Writes the model in HF layout with its vocabulary and preprocessor config (what `asr export` reads)."""
        model.save_pretrained(directory)
        Wav2Vec2Processor(tokenizer=self.tokenizer).save_pretrained(directory)
