"""Training step time, ours vs Hugging Face PyTorch, like for like: same checkpoint, batch, optimizer and loss.

    python -m bench.train_step                          # small (4 x 256) and base configs, fp32, 3 repeats
    python -m bench.train_step --configs small --repeats 5
    python -m bench.train_step --jit                    # adds ours under XLA (tf.function(jit_compile=True))
    python -m bench.train_step --mixed-precision        # ours under Keras' mixed_bfloat16 policy (CPU) /
                                                        #   PyTorch under torch.autocast(bfloat16)
    CUDA_VISIBLE_DEVICES=0 python -m bench.train_step   # the same comparison on a GPU (both frameworks pick it up)

`small` is bench/train_throughput.py's shape (4 layers x 256, seven 256-channel convs); `base` is wav2vec 2.0 base
(12 x 768, 94 M parameters). Each config is built once with seeded random weights by our `Wav2Vec2ForCTC`, saved
with `save_pretrained`, and loaded by both sides (transformers reads the same files), with dropout, layerdrop and
SpecAugment off so both compute the same function. A step: forward on a batch of 4 x 4 s of audio (random, every row
full length), CTC loss with PyTorch's "mean" reduction (per-utterance loss / label length, averaged; blank 0,
zero_infinity), backward, AdamW (lr 1e-4, weight decay 0.01, betas 0.9/0.98, eps 1e-8). Ours is one `tf.function`
(what `training.trainer` runs, its `FusedAdamW` included, minus gradient clipping and the distribution
strategy); theirs is HF's model with `labels=`, `loss.backward()` and `torch.optim.AdamW`. After 2 warm-up steps
each, every repeat times one step of each side in turn, so load from other processes hits both alike; the table
gives medians and ours / HF.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from bench.rtf import cpu_description
from model_export.precision import global_dtype_policy
from training.optimizer import FusedAdamW
from wav2vec2 import Wav2Vec2Config, Wav2Vec2ForCTC
from wav2vec2.ctc_loss import CTCLoss
from wav2vec2.lengths import frame_lengths

SAMPLE_RATE_HZ = 16000
NO_DROPOUT = dict(
    hidden_dropout=0.0, activation_dropout=0.0, attention_dropout=0.0, feat_proj_dropout=0.0, final_dropout=0.0,
    layerdrop=0.0, mask_time_prob=0.0, ctc_loss_reduction="mean", ctc_zero_infinity=True,
)  # fmt: skip
CONFIGS = {
    "small": Wav2Vec2Config(
        hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024, conv_dim=(256,) * 7,
        num_conv_pos_embeddings=64, num_conv_pos_embedding_groups=16, **NO_DROPOUT,
    ),
    "base": Wav2Vec2Config(**NO_DROPOUT),
}  # fmt: skip
LEARNING_RATE, WEIGHT_DECAY, BETAS, EPSILON = 1e-4, 0.01, (0.9, 0.98), 1e-8


def make_batch(config: Wav2Vec2Config, batch_size: int, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Returns `(audio [batch, samples] float32, labels [batch, 40] int32)`: noise and random non-blank ids."""
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal((batch_size, int(seconds * SAMPLE_RATE_HZ)))).astype(np.float32)
    labels = rng.integers(1, config.vocab_size, size=(batch_size, 40)).astype(np.int32)
    return audio, labels


def our_step(checkpoint: Path, audio: np.ndarray, labels: np.ndarray, jit: bool, mixed: bool) -> Callable[[], float]:
    """Returns a function that runs one training step of our model and returns its loss."""
    with global_dtype_policy("mixed_bfloat16" if mixed else "float32"):
        model = Wav2Vec2ForCTC.from_pretrained(checkpoint)
    loss_fn = CTCLoss(blank_id=model.config.pad_token_id, reduction_mode="mean", zero_infinity=True)
    optimizer = FusedAdamW(
        learning_rate=LEARNING_RATE, weight_decay=WEIGHT_DECAY, beta_1=BETAS[0], beta_2=BETAS[1], epsilon=EPSILON
    )
    audio_t, labels_t = tf.constant(audio), tf.constant(labels)
    audio_length = tf.fill([audio.shape[0]], audio.shape[1])

    @tf.function(jit_compile=jit or None, autograph=False)
    def step() -> tf.Tensor:
        with tf.GradientTape() as tape:
            logits = model(audio_t, audio_length=audio_length, training=True)
            loss = loss_fn(labels_t, logits, logit_length=frame_lengths(audio_length, model.config))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    return lambda: float(step())


def hf_step(checkpoint: Path, audio: np.ndarray, labels: np.ndarray, mixed: bool) -> Callable[[], float]:
    """Returns a function that runs one training step of the HF PyTorch model and returns its loss."""
    import torch
    import transformers

    model = transformers.Wav2Vec2ForCTC.from_pretrained(checkpoint).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY, betas=BETAS,
                                  eps=EPSILON)  # fmt: skip
    audio_t, labels_t = torch.from_numpy(audio), torch.from_numpy(labels).long()

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mixed):
            loss = model(audio_t, labels=labels_t).loss
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", choices=tuple(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jit", action="store_true", help="also time ours under XLA, in the same run")
    parser.add_argument("--mixed-precision", action="store_true", help="bfloat16 compute on both sides")
    args = parser.parse_args()

    import torch

    print(f"machine: {cpu_description()}; GPUs visible to TensorFlow: {len(tf.config.list_physical_devices('GPU'))}")
    print(
        f"TensorFlow {tf.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads); batch "
        f"{args.batch_size} x {args.seconds:g} s, AdamW, CTC mean; jit {args.jit}, mixed {args.mixed_precision}"
    )
    print(f"{'config':8s} {'side':10s} {'s/step':>8s} {'/ HF':>6s} {'first loss':>10s}")
    for name in args.configs:
        config = CONFIGS[name]
        with tempfile.TemporaryDirectory() as directory:
            keras.utils.set_random_seed(0)
            Wav2Vec2ForCTC(config).build_weights().save_pretrained(directory)
            audio, labels = make_batch(config, args.batch_size, args.seconds)
            sides = {
                "HF": hf_step(Path(directory), audio, labels, args.mixed_precision),
                "ours": our_step(Path(directory), audio, labels, False, args.mixed_precision),
            }
            if args.jit:
                sides["ours XLA"] = our_step(Path(directory), audio, labels, True, args.mixed_precision)
            first_loss = {side: step() for side, step in sides.items()}  # same weights: the losses must agree
            for step in sides.values():
                step()
            timings: dict[str, list[float]] = {side: [] for side in sides}
            for _ in range(args.repeats):
                for side, step in sides.items():
                    start = time.perf_counter()
                    step()
                    timings[side].append(time.perf_counter() - start)
        reference = statistics.median(timings["HF"])
        for side, values in timings.items():
            median = statistics.median(values)
            print(f"{name:8s} {side:10s} {median:8.3f} {median / reference:6.2f} {first_loss[side]:10.4f}", flush=True)


if __name__ == "__main__":
    main()
