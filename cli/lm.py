"""`asr lm build` and `asr lm tune`: a word n-gram language model for lexicon beam-search decoding of logits."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from cli.errors import CommandError, input_errors

EXAMPLES = """examples:
  asr lm build --text sentences.txt --model exports/wav2vec2 --out exports/wav2vec2_lm
  asr lm build --manifest corpus/train.tsv --model exports/wav2vec2 --out lm --order 4 --uppercase
  asr serve --model exports/wav2vec2 --lm exports/wav2vec2_lm      # or ASR_LM_PATH=exports/wav2vec2_lm
  asr transcribe speech.wav --model exports/wav2vec2 --lm exports/wav2vec2_lm

The LM's unigrams become the lexicon: the decoder outputs only words seen in the text. Build it from text
in the domain you serve (never from test transcripts), and tune --lm-weight / --word-score on a dev set.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lm", help="build a word n-gram language model for beam-search decoding",
        description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    actions = parser.add_subparsers(dest="lm_command", required=True, metavar="ACTION")
    build = actions.add_parser(
        "build", help="estimate the n-grams and write an LM folder (lm.arpa + decoder.json)",
        description="Estimate a word n-gram language model from text (sentence files or training manifests' "
        "transcripts), checked against the model's vocabulary, and write an LM folder (lm.arpa + decoder.json, "
        "the beam's settings) that `asr serve --lm` and `asr transcribe --lm` decode with.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    source = build.add_argument_group("text (at least one)")
    source.add_argument("--text", type=Path, action="append", default=[], metavar="FILE", help="one sentence per line")
    source.add_argument("--manifest", type=Path, action="append", default=[], metavar="FILE",
                        help="a training manifest (path<TAB>transcript); its transcripts are the text")  # fmt: skip
    vocab = build.add_mutually_exclusive_group(required=True)
    vocab.add_argument("--model", type=Path, help="SavedModel (NAME/ or NAME/VERSION/) whose assets/vocab.json to use")
    vocab.add_argument("--vocab", type=Path, help="a vocab.json (token -> id), e.g. a Hugging Face checkpoint's")
    build.add_argument("--out", type=Path, required=True, help="the LM folder to write")
    build.add_argument("--order", type=int, default=3, help="n-gram order (default 3)")
    build.add_argument("--uppercase", action="store_true", help="uppercase the text first (for A-Z vocabularies)")
    build.add_argument("--lm-weight", type=float, help="LM log-prob scale in the beam (default 1.0)")
    build.add_argument("--word-score", type=float, help="score added per word (default 1.0)")
    build.add_argument("--beam-size", type=int, help="hypotheses kept per frame (default 50)")
    build.set_defaults(func=run_build)

    tune = actions.add_parser(
        "tune", help="choose --lm-weight/--word-score by WER on a dev manifest; --write saves the best",
        description="Decode a dev manifest once with the model, then beam-search its logits with every pair of "
        "--lm-weights and --word-scores and report each pair's word error rate; --write stores the best pair in "
        "the LM folder's decoder.json. Use a dev set, never the test set.",
        epilog=TUNE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    tune.add_argument("--model", type=Path, required=True, help="SavedModel (NAME/ or NAME/VERSION/)")
    tune.add_argument("--lm", type=Path, required=True, help="the LM folder (`asr lm build`)")
    tune.add_argument("--manifest", type=Path, required=True, help="dev set: path<TAB>transcript (never test data)")
    tune.add_argument("--lm-weights", type=float_list, default=[0.5, 1.0, 1.5, 2.0], help="default 0.5,1,1.5,2")
    tune.add_argument("--word-scores", type=float_list, default=[0.0, 1.0, 2.0, 3.0], help="default 0,1,2,3")
    tune.add_argument("--limit", type=int, help="use at most this many utterances")
    tune.add_argument("--batch-size", type=int, default=16, help="utterances per model call (default 16)")
    tune.add_argument("--write", action="store_true", help="store the best pair in the folder's decoder.json")
    tune.add_argument("--no-progress", action="store_true", help="no progress bars")
    tune.set_defaults(func=run_tune)


def float_list(text: str) -> list[float]:
    """Parse `0.5,1,2` into floats (an argparse type)."""
    try:
        return [float(item) for item in text.split(",") if item.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from error


TUNE_EXAMPLES = """examples:
  asr lm tune --model exports/wav2vec2 --lm exports/wav2vec2_lm --manifest corpus/dev.tsv
  asr lm tune --model exports/wav2vec2 --lm lm --manifest dev.tsv --lm-weights 0.5,1,2 --word-scores 0,2 --write
"""


def add_decoding_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `--lm DIR` / `--no-lm`, shared by `asr serve`, `asr wyoming` and `asr transcribe`."""
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--lm", type=Path, metavar="DIR", help="decode with this LM folder (`asr lm build`)")
    choice.add_argument("--no-lm", action="store_true", help="greedy decoding, even where the model has an LM")


def decoding_settings(args: argparse.Namespace) -> dict[str, object]:
    """Return the `Settings` fields the decoding flags set (none when neither was given)."""
    if args.no_lm:
        return {"decoder": "greedy"}
    return {"lm_path": args.lm, "decoder": "lm"} if args.lm else {}


def read_sentences(text_files: list[Path], manifests: list[Path], uppercase: bool) -> Iterator[str]:
    """Yield the sentences of text files (one per line) and of manifests' transcript columns."""
    from training.data.sources import Utterance, manifest_utterances

    for text_file in text_files:
        with text_file.open(encoding="utf-8") as lines:
            for line in lines:
                yield line.upper() if uppercase else line
    for manifest in manifests:
        for item in manifest_utterances(manifest):
            if isinstance(item, Utterance):
                yield item.transcript.upper() if uppercase else item.transcript


def read_tokens(args: argparse.Namespace) -> list[str]:
    """Return the CTC vocabulary in id order, from the SavedModel's assets or a vocab.json."""
    from model_export.contract import VOCAB_ASSET, read_vocab, read_vocab_file, resolve_version_dir

    if not args.model:
        return read_vocab_file(args.vocab)
    version_dir = resolve_version_dir(args.model).path
    tokens = read_vocab(version_dir)
    if tokens is None:
        raise FileNotFoundError(f"{version_dir / VOCAB_ASSET} does not exist")
    return tokens


def run_build(args: argparse.Namespace) -> int:
    from ctc_decoding import build_language_model
    from model_export.errors import ExportError
    from training.errors import TrainingError

    if not args.text and not args.manifest:
        raise CommandError("give at least one --text or --manifest")
    # LanguageModelError is a ValueError
    with input_errors(OSError, ValueError, ExportError, TrainingError):
        tokens = read_tokens(args)
        search = {"lm_weight": args.lm_weight, "word_score": args.word_score, "beam_size": args.beam_size}
        config = build_language_model(
            read_sentences(args.text, args.manifest, args.uppercase), tokens, args.out, order=args.order,
            **{name: value for name, value in search.items() if value is not None},
        )  # fmt: skip
    print(
        f"wrote {args.out}: {config.order}-gram LM over {config.notes['words']} words "
        f"from {config.notes['sentences']} sentences"
    )
    return 0


def run_tune(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from audio_input import AudioError, load_audio
    from ctc_decoding import LanguageModelError, LexiconBeamDecoder, log_softmax, write_decoder_config
    from ctc_decoding.tuning import grid_search
    from engine.model_client import SavedModelClient
    from model_export.errors import ExportError
    from training.data.sources import Utterance, manifest_utterances
    from training.errors import TrainingError
    from wav2vec2 import SAMPLE_RATE_HZ

    # LanguageModelError is a ValueError
    with input_errors(OSError, ValueError, AudioError, ExportError, TrainingError):
        decoder = LexiconBeamDecoder(args.lm)
        client = SavedModelClient(args.model)
        if client.vocab is not None:
            decoder.check_vocabulary(client.vocab)
        utterances = [item for item in manifest_utterances(args.manifest) if isinstance(item, Utterance)]
        utterances = utterances[: args.limit] if args.limit else utterances
        if not utterances:
            raise ValueError(f"{args.manifest} lists no usable utterances")
        log_probs = []
        batches = range(0, len(utterances), args.batch_size)
        for start in tqdm(batches, desc="acoustic model", disable=args.no_progress):
            batch = utterances[start : start + args.batch_size]
            audio = [load_audio(utterance.audio_path, SAMPLE_RATE_HZ).samples for utterance in batch]
            log_probs.extend(log_softmax(logits) for logits in client.logits_batch(audio))
        references = [utterance.transcript for utterance in utterances]
        scores = grid_search(decoder, log_probs, references, args.lm_weights, args.word_scores, not args.no_progress)
    current = next(
        (s for s in scores if (s.lm_weight, s.word_score) == (decoder.config.lm_weight, decoder.config.word_score)),
        None,
    )
    print(f"{'lm_weight':>9} {'word_score':>10} {'WER %':>7} {'CER %':>7}   ({len(utterances)} utterances)")
    for score in scores:
        print(f"{score.lm_weight:>9g} {score.word_score:>10g} {100 * score.wer:>7.2f} {100 * score.cer:>7.2f}")
    best = scores[0]
    if current is not None:
        print(f"current ({current.lm_weight:g}, {current.word_score:g}): WER {100 * current.wer:.2f} %")
    print(f"best ({best.lm_weight:g}, {best.word_score:g}): WER {100 * best.wer:.2f} %")
    if args.write:
        with input_errors(OSError, LanguageModelError):
            write_decoder_config(args.lm, decoder.with_weights(best.lm_weight, best.word_score).config)
        print(f"wrote lm_weight={best.lm_weight:g}, word_score={best.word_score:g} to {args.lm}/decoder.json")
    return 0
