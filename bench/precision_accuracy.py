"""Greedy WER of the demo model computed in bfloat16 and int8 vs float32, and how far apart their logits are.

    python -m bench.precision_accuracy                           # the test fixtures: festival (8) + FSDD (14)
    python -m bench.precision_accuracy --set dev=artifacts/corpus/dev.tsv --limit 300

float32 and bfloat16 are the same checkpoint rebuilt by `model_export.precision.with_precision` (what
`asr export --precision` traces into the SavedModel); int8 is the `model.tflite` that `asr export --precision
int8` writes, run by the gateway's own `TFLiteClient`; one utterance per call. The WER difference is what each
precision costs in accuracy; the issue bounds it at 0.5 points.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from audio_input import load_audio
from bench.accuracy import error_rates
from engine.tflite_client import TFLiteClient
from engine.thread_pools import schedulable_cpus
from model_export.export import export_saved_model, load_source
from model_export.precision import with_precision
from wav2vec2 import SAMPLE_RATE_HZ

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures"


def fixture_sets() -> dict[str, list[tuple[Path, str]]]:
    """Returns the festival fixture clips and the FSDD fixture digits with their transcripts."""
    festival_dir = FIXTURES / "festival"
    festival = [
        (festival_dir / name, text)
        for name, text in (line.split("\t") for line in (festival_dir / "transcripts.tsv").read_text().splitlines())
    ]
    digits = ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"]
    fsdd = [(path, digits[int(path.name[0])]) for path in sorted((FIXTURES / "fsdd").glob("*.wav"))]
    return {"festival fixtures": festival, "FSDD fixtures": fsdd}


def manifest_set(manifest: Path, limit: int | None) -> list[tuple[Path, str]]:
    """Returns `path<TAB>TRANSCRIPT` lines of a manifest (paths relative to it), at most `limit`."""
    rows = [line.split("\t") for line in manifest.read_text().splitlines() if line.strip()]
    if limit is not None and limit < len(rows):
        rows = [rows[int(index * len(rows) / limit)] for index in range(limit)]
    return [(manifest.parent / path, text) for path, text in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(REPO_ROOT / "demo_model" / "checkpoint"))
    parser.add_argument("--set", action="append", default=[], metavar="NAME=MANIFEST", help="extra eval set")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    model, processor = load_source(args.model)
    sets = fixture_sets()
    for spec in args.set:
        name, manifest = spec.split("=", 1)
        sets[name] = manifest_set(Path(manifest), args.limit)

    with tempfile.TemporaryDirectory() as directory:
        int8 = TFLiteClient(
            export_saved_model(model, processor, directory, "demo", 1, "int8"), num_threads=schedulable_cpus()
        )
        runs: dict[str, Callable[[np.ndarray], np.ndarray]] = {"int8": lambda audio: int8.logits_batch([audio])[0]}
        for precision in ("float32", "bfloat16"):
            rebuilt = with_precision(model, precision)

            def run(audio: np.ndarray, rebuilt=rebuilt) -> np.ndarray:  # noqa: ANN001
                batch = processor.pad([audio])
                return rebuilt(batch.audio, audio_length=batch.audio_length, training=False).numpy()[0]

            runs[precision] = run
        print(f"{'set':20s} {'clips':>5s} {'precision':>9s} {'WER fp32':>9s} {'WER':>7s} {'diff pts':>9s} "
              f"{'max rel logit':>14s} {'argmax agree':>13s}")  # fmt: skip
        for set_name, clips in sets.items():
            logits = {precision: [] for precision in ("float32", "bfloat16", "int8")}
            for path, _ in clips:
                audio = load_audio(path, SAMPLE_RATE_HZ).samples
                for precision, outputs in logits.items():
                    outputs.append(runs[precision](audio))
            references = [text for _, text in clips]
            wers = {
                precision: error_rates(references, [processor.batch_decode([row.argmax(-1)])[0] for row in rows])[0]
                * 100
                for precision, rows in logits.items()
            }
            for precision in ("bfloat16", "int8"):
                pairs = list(zip(logits["float32"], logits[precision], strict=True))
                worst = max(float(np.abs(other - ref).max() / np.abs(ref).max()) for ref, other in pairs)
                agree = sum(int((other.argmax(-1) == ref.argmax(-1)).sum()) for ref, other in pairs)
                frames = sum(ref.shape[0] for ref, _ in pairs)
                wer, reference_wer = wers[precision], wers["float32"]
                print(f"{set_name:20s} {len(clips):5d} {precision:>9s} {reference_wer:9.2f} {wer:7.2f} "
                      f"{wer - reference_wer:+9.2f} {worst:14.2e} {agree / frames:13.4f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
