"""Where inference time goes, ours vs HF PyTorch, component by component on the same weights and shapes.

    python -m bench.components                   # base architecture, 10 s of audio, batch 1, both frameworks' threads
    python -m bench.components --threads 1       # one thread each: kernel efficiency, less sensitive to load
    python -m bench.components --seconds 30 --repeats 7

Each row runs one part of the model on the input the part gets in a real call (HF's own intermediate tensors, so
both sides see identical inputs): the conv feature encoder, the feature projection, the positional convolution,
the 12 encoder layers chained (and their attention and feed-forward sub-layers alone, also chained), and the
whole model to logits. Ours are `tf.function`s of our Keras layers with dynamic shapes, as in the SavedModel; HF's
run under `torch.inference_mode()`. Every repeat times each row of both sides in turn, so load from other
processes hits both alike; the table gives the fastest of the repeats (under load the median drifts more) and
ours / HF. Use it to find the component that holds a ratio up; `bench.rtf` gives the SavedModel's end-to-end one.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from bench.random_checkpoint import random_base_checkpoint
from bench.rtf import SAMPLE_RATE_HZ, cpu_description


def chained(layer_call: Callable[[tf.Tensor, int], tf.Tensor], count: int) -> Callable[[tf.Tensor], tf.Tensor]:
    """Returns `x -> layer_call(...layer_call(x, 0)..., count - 1)`: each layer on its predecessor's output.

    Chaining matters in a graph: `count` calls on one input are common subexpressions that TF computes once.
    """

    def run(x: tf.Tensor) -> tf.Tensor:
        for index in range(count):
            x = layer_call(x, index)
        return x

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="threads per framework (0: each one's default)")
    args = parser.parse_args()
    import torch
    import transformers

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as directory:
        model, _, checkpoint = random_base_checkpoint(Path(directory))
        reference = transformers.Wav2Vec2ForCTC.from_pretrained(checkpoint).eval()
    audio = (0.1 * np.random.default_rng(0).standard_normal((1, int(args.seconds * SAMPLE_RATE_HZ)))).astype(np.float32)
    body, hf_body = model.wav2vec2, reference.wav2vec2
    layers, hf_layers = body.encoder.layers, hf_body.encoder.layers
    with torch.inference_mode():
        hf_audio = torch.from_numpy(audio)
        hf_features = hf_body.feature_extractor(hf_audio).transpose(1, 2).contiguous()  # [batch, frames, 512]
        hf_hidden = hf_body.feature_projection(hf_features)[0]  # [batch, frames, hidden]
    features, hidden = tf.constant(hf_features.numpy()), tf.constant(hf_hidden.numpy())
    length = tf.constant([audio.shape[1]], tf.int32)
    all_valid = tf.ones(tf.shape(hidden)[:2], tf.bool)

    def first(output: object) -> torch.Tensor:
        return output[0] if isinstance(output, tuple) else output

    def ours(function: Callable[[tf.Tensor], tf.Tensor], x: tf.Tensor | np.ndarray) -> Callable[[], object]:
        # Any batch and length, as in the SavedModel; channels known, as Keras' layers need.
        spec = tf.TensorSpec([None] * (len(x.shape) - 1) + list(x.shape[-1:]), tf.float32)
        traced = tf.function(function, input_signature=[spec], autograph=False)
        return lambda: traced(x).numpy()

    def theirs(function: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> Callable[[], object]:
        def run() -> object:
            with torch.inference_mode():
                return first(function(x))

        return run

    layer_count = len(layers)
    rows: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "conv feature encoder": (
            ours(lambda a: body.feature_extractor(a, sample_lengths=length), audio),
            theirs(hf_body.feature_extractor, hf_audio),
        ),
        "feature projection": (
            ours(lambda x: body.feature_projection(x)[0], features),
            theirs(hf_body.feature_projection, hf_features),
        ),
        "positional conv": (
            ours(body.encoder.pos_conv_embed, hidden),
            theirs(hf_body.encoder.pos_conv_embed, hf_hidden),
        ),
        f"encoder layers x{layer_count}": (
            ours(chained(lambda x, i: layers[i](x, key_mask=all_valid), layer_count), hidden),
            theirs(chained(lambda x, i: first(hf_layers[i](x)), layer_count), hf_hidden),
        ),
        f"  attention x{layer_count}": (
            ours(chained(lambda x, i: layers[i].attention(x, key_mask=all_valid), layer_count), hidden),
            theirs(chained(lambda x, i: first(hf_layers[i].attention(x)), layer_count), hf_hidden),
        ),
        f"  feed-forward x{layer_count}": (
            ours(chained(lambda x, i: layers[i].feed_forward(x), layer_count), hidden),
            theirs(chained(lambda x, i: hf_layers[i].feed_forward(x), layer_count), hf_hidden),
        ),
        "whole model (logits)": (
            ours(lambda a: model(a, audio_length=length), audio),
            theirs(lambda a: reference(a).logits, hf_audio),
        ),
    }
    for pair in rows.values():  # first calls trace and warm up, untimed
        for run in pair:
            run()
    timings = {name: ([], []) for name in rows}
    for _ in range(args.repeats):
        for name, pair in rows.items():
            for run, values in zip(pair, timings[name], strict=True):
                start = time.perf_counter()
                run()
                values.append(time.perf_counter() - start)
    print(f"machine: {cpu_description()}")
    print(
        f"TensorFlow {tf.__version__}, torch {torch.__version__}; threads {args.threads or 'default'} "
        f"(torch {torch.get_num_threads()}); base architecture, {args.seconds:g} s, batch 1, fastest of {args.repeats}"
    )
    print(f"{'component':24s} {'ours ms':>9s} {'HF ms':>9s} {'ours / HF':>10s}")
    for name, (our_times, their_times) in timings.items():
        our_ms, their_ms = 1000 * min(our_times), 1000 * min(their_times)
        print(f"{name:24s} {our_ms:9.1f} {their_ms:9.1f} {our_ms / their_ms:10.2f}", flush=True)


if __name__ == "__main__":
    main()
