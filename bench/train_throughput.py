"""Training throughput (audio seconds per second) of a small wav2vec 2.0 config on this machine.

Writes a synthetic corpus of 2-6 s utterances to TFRecords, trains `--steps` steps with the real Trainer
(bucketed tf.data input, AdamW, CTC), and prints audio seconds trained per wall-clock second; the reference
measured in the same run is inference (forward only) on the same batches, so the ratio says what the
backward pass and optimizer cost. Usage: python bench/train_throughput.py [--steps 30] [--batch-size 4]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

SMALL = {
    "hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024,
    "conv_dim": [256] * 7, "num_conv_pos_embeddings": 64, "num_conv_pos_embedding_groups": 16,
    "layerdrop": 0.0, "mask_time_prob": 0.05,
}  # fmt: skip


def write_corpus(root: Path, count: int) -> str:
    import soundfile

    from training.data.sources import Utterance
    from training.data.tfrecords import write_tfrecords

    rng = np.random.default_rng(0)
    items = []
    for index in range(count):
        duration_s = rng.uniform(2.0, 6.0)
        audio = 0.1 * rng.standard_normal(int(duration_s * 16_000)).astype(np.float32)
        path = root / f"{index}.wav"
        soundfile.write(str(path), audio, 16_000, subtype="PCM_16")
        items.append(Utterance(str(index), path, "SOME WORDS OF SYNTHETIC SPEECH"[: 8 + int(duration_s * 3)]))
    write_tfrecords(items, str(root / "rec"), shard_size=16, progress=False)
    return str(root / "rec" / "*.tfrecord")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    import tensorflow as tf

    from training.config import TrainConfig
    from training.evaluate import make_transcriber
    from training.trainer import Trainer

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = write_corpus(root, 48)
        (root / "small.json").write_text(json.dumps(SMALL))
        config = TrainConfig(
            out_dir=str(root / "run"),
            train_data=data,
            model_config=str(root / "small.json"),
            steps=args.steps,
            batch_size=args.batch_size,
            warmup_steps=5,
            log_every=args.steps,
            checkpoint_every=10**6,
            freeze_feature_extractor=False,
            strategy="default",
        )
        trainer = Trainer(config)
        iterator = trainer.iterator
        trainer._train_step(iterator)  # trace and warm up outside the timing
        trained_s, start = 0.0, time.perf_counter()
        for _ in range(args.steps):
            trained_s += float(trainer._train_step(iterator)[2])
        train_rate = trained_s / (time.perf_counter() - start)

        transcribe = make_transcriber(trainer.model, trainer.task.tokenizer)
        batches = list(trainer.task.build_inputs(data, training=False))
        transcribe(batches[0]["audio"], batches[0]["audio_length"])
        inferred_s, start = 0.0, time.perf_counter()
        for batch in batches:
            transcribe(batch["audio"], batch["audio_length"])
            inferred_s += float(tf.reduce_sum(batch["audio_length"])) / 16_000
        infer_rate = inferred_s / (time.perf_counter() - start)

    params = sum(int(np.prod(v.shape)) for v in trainer.model.trainable_variables)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, TF {tf.__version__}")
    print(
        f"model: small config, {params / 1e6:.1f} M trainable parameters; batch {args.batch_size}, "
        f"2-6 s utterances, {args.steps} steps"
    )
    print(f"training:  {train_rate:8.1f} audio s/s")
    print(f"inference: {infer_rate:8.1f} audio s/s (reference, same run)")
    print(f"ratio training/inference: {train_rate / infer_rate:.3f}")


if __name__ == "__main__":
    main()
