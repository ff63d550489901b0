"""`asr eval`: WER and CER of a model on TFRecords, a per-utterance report, the worst utterances."""

from __future__ import annotations

import argparse
import sys

from cli.errors import input_errors

EXAMPLES = """examples:
  asr eval --model runs/x/best --data 'data/dev/*.tfrecord'
  asr eval --model facebook/wav2vec2-base-960h --data 'gs://bucket/test-clean/*.tfrecord' --report report.json
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval", help="WER/CER of a model on TFRecord files", description=__doc__, epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--model", required=True, help="checkpoint directory (HF layout) or hub id")
    parser.add_argument("--data", required=True, help="TFRecord glob(s), comma separated, local or gs://")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-batches", type=int, default=None, help="stop after this many batches")
    parser.add_argument("--report", default=None, help="per-utterance report: .json or .csv")
    parser.add_argument("--worst", type=int, default=10, help="list this many worst utterances (default 10)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from training.errors import TrainingError
    from training.evaluate import evaluate_dataset
    from training.task import eval_dataset
    from wav2vec2 import Wav2Vec2CTCTokenizer, Wav2Vec2ForCTC
    from wav2vec2.errors import Wav2Vec2Error
    from wav2vec2.hub import resolve_checkpoint_dir

    with input_errors(TrainingError, Wav2Vec2Error):
        directory = resolve_checkpoint_dir(args.model)
        model = Wav2Vec2ForCTC.from_pretrained(directory)
        tokenizer = (
            Wav2Vec2CTCTokenizer.from_pretrained(directory)
            if (directory / "vocab.json").exists()
            else Wav2Vec2CTCTokenizer()
        )
        dataset = eval_dataset(args.data, tokenizer, model.config, args.batch_size)
        report = evaluate_dataset(model, tokenizer, dataset, max_batches=args.max_batches, progress=True)
    print(report.summary(worst=args.worst))
    if args.report:
        (report.write_csv if args.report.endswith(".csv") else report.write_json)(args.report)
        print(f"per-utterance report: {args.report}", file=sys.stderr)
    return 0
