"""`asr prepare`: a corpus (LibriSpeech folders, a TSV/CSV manifest, FSDD files, or a folder of unlabelled audio
for pretraining) → sharded TFRecords."""

from __future__ import annotations

import argparse

from cli.errors import EXIT_FAILED, input_errors

EXAMPLES = """examples:
  asr prepare --librispeech LibriSpeech/train-clean-100 --out data/train --prefix train-clean-100
  asr prepare --manifest corpus.tsv --out data/train --shard-size 500 --max-duration 16
  asr prepare --fsdd free-spoken-digit-dataset/recordings --out gs://my-bucket/fsdd
  # unlabelled audio for `asr pretrain`: a folder, or a manifest of paths (one column)
  asr prepare --audio-dir my-recordings/ --out data/unlabelled
  asr prepare --manifest paths.tsv --unlabelled --out data/unlabelled
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prepare", help="write a corpus as sharded TFRecords (16 kHz 16-bit PCM + transcript)",
        description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--librispeech", metavar="DIR", help="folder tree of *.flac + *.trans.txt")
    source.add_argument("--manifest", metavar="FILE", help="path<TAB>transcript (.tsv) or path,transcript (.csv)")
    source.add_argument("--fsdd", metavar="DIR", help="{digit}_{speaker}_{index}.wav files")
    source.add_argument("--audio-dir", metavar="DIR", help="every audio file under DIR, no transcripts (pretraining)")
    parser.add_argument(
        "--unlabelled", action="store_true", help="with --manifest: rows may be a path alone (audio for pretraining)"
    )
    parser.add_argument("--out", required=True, help="output folder, local or gs://")
    parser.add_argument("--prefix", default="train", help="shard file prefix (default: train)")
    parser.add_argument("--shard-size", type=int, default=2000, help="max utterances per shard (default 2000)")
    parser.add_argument("--shard-mb", type=float, default=200.0, help="max MB per shard (default 200)")
    parser.add_argument("--min-duration", type=float, default=0.0, help="skip shorter utterances (s)")
    parser.add_argument("--max-duration", type=float, default=None, help="skip longer utterances (s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from training.data.fsdd import fsdd_utterances
    from training.data.sources import audio_folder_utterances, librispeech_utterances, manifest_utterances
    from training.data.tfrecords import write_tfrecords
    from training.errors import TrainingError

    with input_errors(TrainingError):
        if args.librispeech:
            items = librispeech_utterances(args.librispeech)
        elif args.manifest:
            items = manifest_utterances(args.manifest, unlabelled=args.unlabelled)
        elif args.audio_dir:
            items = audio_folder_utterances(args.audio_dir)
        else:
            items = fsdd_utterances(args.fsdd)
        summary = write_tfrecords(
            items, args.out, prefix=args.prefix, shard_size=args.shard_size, shard_max_mb=args.shard_mb,
            min_duration_s=args.min_duration, max_duration_s=args.max_duration, progress=not args.no_progress,
        )  # fmt: skip
    print(summary.report())
    return 0 if summary.num_written else EXIT_FAILED
