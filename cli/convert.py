"""`asr convert SRC DST`: an HF checkpoint (dir or hub id; .bin or safetensors) → our safetensors layout."""

from __future__ import annotations

import argparse
import logging

from cli.errors import input_errors

logger = logging.getLogger(__name__)

EXAMPLES = """examples:
  asr convert facebook/wav2vec2-base-960h models/base-960h
  asr convert ./downloaded-checkpoint ./converted
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert a Hugging Face checkpoint into this project's format (torch needed only for .bin)",
        description="Loads SRC (a local HF checkpoint directory or a hub id), checks it builds, and writes "
        "config.json, model.safetensors, vocab.json, tokenizer_config.json and preprocessor_config.json to DST. "
        "The result loads without torch and stays loadable by transformers.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("src", help="HF checkpoint directory or hub id")
    parser.add_argument("dst", help="output directory")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from wav2vec2 import Wav2Vec2ForCTC, Wav2Vec2Processor
    from wav2vec2.errors import Wav2Vec2Error

    # A bad SRC (no such directory, an unknown or unreachable hub id, a checkpoint that does not fit its
    # config) and an unwritable DST are input errors.
    with input_errors(Wav2Vec2Error, OSError):
        model = Wav2Vec2ForCTC.from_pretrained(args.src)
        processor = Wav2Vec2Processor.from_pretrained(args.src)
        model.save_pretrained(args.dst)
        processor.save_pretrained(args.dst)
    parameters = sum(int(w.numpy().size) for w in model.weights)
    logger.info("wrote %s (%.1f M parameters)", args.dst, parameters / 1e6)
    return 0
