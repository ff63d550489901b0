"""Greedy WER of the demo model computed in bfloat16 vs float32, and how far apart their logits are.

    python -m bench.precision_accuracy                           # the test fixtures: festival (8) + FSDD (14)
    python -m bench.precision_accuracy --set dev=artifacts/corpus/dev.tsv --limit 300

Both precisions are the same checkpoint rebuilt by `model_export.precision.with_precision` (what
`asr export --precision` traces into the SavedModel), one utterance per call. The WER difference is what
`asr export --precision bfloat16` costs in accuracy; the issue bounds it at 0.5 points.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.accuracy import error_rates
from model_export.export import load_source
from model_export.precision import with_precision
from wav2vec2.audio import load_audio

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
    models = {"float32": with_precision(model, "float32"), "bfloat16": with_precision(model, "bfloat16")}
    sets = fixture_sets()
    for spec in args.set:
        name, manifest = spec.split("=", 1)
        sets[name] = manifest_set(Path(manifest), args.limit)

    print(f"{'set':20s} {'clips':>5s} {'WER fp32':>9s} {'WER bf16':>9s} {'diff pts':>9s} {'max rel logit':>14s} "
          f"{'argmax agree':>13s}")  # fmt: skip
    for set_name, clips in sets.items():
        hypotheses: dict[str, list[str]] = {precision: [] for precision in models}
        worst, agree, frames = 0.0, 0, 0
        for path, _ in clips:
            batch = processor.pad([load_audio(path).samples])
            logits = {
                precision: m(batch.audio, audio_length=batch.audio_length, training=False).numpy()[0]
                for precision, m in models.items()
            }
            for precision, row in logits.items():
                hypotheses[precision].append(processor.batch_decode([row.argmax(-1)])[0])
            reference, other = logits["float32"], logits["bfloat16"]
            worst = max(worst, float(np.abs(other - reference).max() / np.abs(reference).max()))
            agree += int((other.argmax(-1) == reference.argmax(-1)).sum())
            frames += reference.shape[0]
        references = [text for _, text in clips]
        wer32 = error_rates(references, hypotheses["float32"])[0] * 100
        wer16 = error_rates(references, hypotheses["bfloat16"])[0] * 100
        print(f"{set_name:20s} {len(clips):5d} {wer32:9.2f} {wer16:9.2f} {wer16 - wer32:+9.2f} {worst:14.2e} "
              f"{agree / frames:13.4f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
