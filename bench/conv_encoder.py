"""Where the conv feature encoder's time goes, and whether another formulation of its convolutions is faster.

    python -m bench.conv_encoder                  # 10 s of audio, base architecture's 7 conv layers, 7 repeats

Per layer of wav2vec2-base's feature encoder (512 channels; kernels 10,3,3,3,3,2,2; strides 5,2,2,2,2,2,2; conv
then exact GELU, random weights, batch 1), interleaved, medians:
- `tf conv1d`: what `wav2vec2.feature_encoder.ConvBlock` runs (Keras Conv1D -> oneDNN convolution);
- `tf im2col matmul`: the same convolution as one matmul over gathered windows (reshape when the kernel is a
  multiple of the stride, strided slices otherwise), the usual trick when a framework's conv kernels are slow;
- `torch conv1d`: PyTorch's `F.conv1d` + GELU on the same weights, HF's own formulation, as the reference.
The outputs of the two TF formulations are compared; ratios are to torch.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import tensorflow as tf

LAYERS = [(1, 512, 10, 5)] + [(512, 512, 3, 2)] * 4 + [(512, 512, 2, 2)] * 2  # (in, out, kernel, stride)


def conv1d(x: tf.Tensor, kernel: tf.Tensor, stride: int) -> tf.Tensor:
    return tf.nn.conv1d(x, kernel, stride=stride, padding="VALID")


def im2col_matmul(x: tf.Tensor, kernel: tf.Tensor, stride: int) -> tf.Tensor:
    """The VALID convolution `x [batch, time, in] * kernel [k, in, out]` at `stride` as one matmul."""
    k, channels_in, channels_out = kernel.shape
    batch, steps = tf.shape(x)[0], tf.shape(x)[1]
    frames = (steps - k) // stride + 1
    if k % stride == 0:  # each window is k // stride consecutive non-overlapping groups of `stride` steps
        groups = k // stride
        grouped = tf.reshape(x[:, : (frames + groups - 1) * stride], [batch, frames + groups - 1, stride * channels_in])
        windows = tf.concat([grouped[:, j : j + frames] for j in range(groups)], axis=-1)
    else:
        windows = tf.concat([x[:, j : j + stride * (frames - 1) + 1 : stride] for j in range(k)], axis=-1)
    return tf.matmul(windows, tf.reshape(kernel, [k * channels_in, channels_out]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import torch

    rng = np.random.default_rng(0)
    kernels = [(0.05 * rng.standard_normal((k, cin, cout))).astype(np.float32) for cin, cout, k, _ in LAYERS]
    layer_input = (0.1 * rng.standard_normal((1, int(args.seconds * 16_000), 1))).astype(np.float32)
    print(f"torch {torch.__version__}, tensorflow {tf.__version__}, {torch.get_num_threads()} torch threads; "
          f"{args.seconds:g} s of audio, batch 1, median of {args.repeats}")  # fmt: skip
    print(f"{'layer':>5s} {'frames':>7s} {'tf conv1d ms':>13s} {'im2col ms':>10s} {'torch ms':>9s} "
          f"{'conv/torch':>11s} {'im2col/torch':>13s} {'max |diff|':>11s}")  # fmt: skip
    totals = {"conv": 0.0, "im2col": 0.0, "torch": 0.0}
    for index, ((_, _, _, stride), kernel) in enumerate(zip(LAYERS, kernels, strict=True)):
        x_tf, w_tf = tf.constant(layer_input), tf.constant(kernel)
        x_torch = torch.from_numpy(layer_input).transpose(1, 2).contiguous()  # [batch, channels, time]
        w_torch = torch.from_numpy(kernel).permute(2, 1, 0).contiguous()  # [out, in, k]
        runs = {
            "conv": tf.function(lambda x, w=w_tf, s=stride: tf.nn.gelu(conv1d(x, w, s), approximate=False)),
            "im2col": tf.function(lambda x, w=w_tf, s=stride: tf.nn.gelu(im2col_matmul(x, w, s), approximate=False)),
        }  # fmt: skip
        outputs = {name: run(x_tf).numpy() for name, run in runs.items()}  # first calls: tracing, untimed

        def torch_layer(x=x_torch, w=w_torch, s=stride) -> np.ndarray:
            with torch.inference_mode():
                return torch.nn.functional.gelu(torch.nn.functional.conv1d(x, w, stride=s)).numpy()

        torch_layer()
        timings: dict[str, list[float]] = {"conv": [], "im2col": [], "torch": []}
        for _ in range(args.repeats):
            for name, run in (*runs.items(), ("torch", None)):
                start = time.perf_counter()
                run(x_tf).numpy() if run is not None else torch_layer()
                timings[name].append(time.perf_counter() - start)
        ms = {name: 1000 * statistics.median(values) for name, values in timings.items()}
        for name, value in ms.items():
            totals[name] += value
        difference = float(np.abs(outputs["conv"] - outputs["im2col"]).max())
        print(f"{index:5d} {outputs['conv'].shape[1]:7d} {ms['conv']:13.1f} {ms['im2col']:10.1f} {ms['torch']:9.1f} "
              f"{ms['conv'] / ms['torch']:11.2f} {ms['im2col'] / ms['torch']:13.2f} {difference:11.2e}")  # fmt: skip
        layer_input = outputs["conv"]
    print(f"{'all':>5s} {'':7s} {totals['conv']:13.1f} {totals['im2col']:10.1f} {totals['torch']:9.1f} "
          f"{totals['conv'] / totals['torch']:11.2f} {totals['im2col'] / totals['torch']:13.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
