"""Prints WER / CER of a demo SavedModel and of pocketsphinx, on the same 16 kHz audio, in one run.

    python -m bench.accuracy --model path/to/saved_model --corpus artifacts/corpus
    python -m bench.accuracy --model service/bundled_model/demo/1 --lm service/bundled_model/demo/1/assets.extra/lm
    python -m bench.accuracy --corpus artifacts/corpus --limit 50        # pocketsphinx only, quick look

The sets are the corpus builder's evaluation manifests (demo_model/build_corpus.py): the held-out FSDD
speaker (real speech, single digits) and festival-voice sentences (voices and sentences never trained on).
Both systems' outputs and the references go through the same `normalize_transcript` (uppercase, numbers as
words, no punctuation) before jiwer scores them. pocketsphinx runs its bundled en-us acoustic model and
general language model: the reference a user gets with no training at all. With `--lm`, each system is
scored twice: the demo model greedy (what the SavedModel outputs alone) and with the gateway's LM beam search,
pocketsphinx with its general LM and with the same n-grams as ours (like for like).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import jiwer
import numpy as np
from tqdm import tqdm

from ctc_decoding import LexiconBeamDecoder, log_softmax
from ctc_decoding.language_model import ARPA_FILE
from demo_model.synth import SAMPLE_RATE_HZ, read_16k_mono
from demo_model.text import normalize_transcript
from engine.model_client import SavedModelClient
from training.data.sources import Utterance, manifest_utterances
from transcription import FrameGeometry, GreedyDecoder, LanguageModelDecoder
from wav2vec2.tokenizer import Wav2Vec2CTCTokenizer

DEFAULT_SETS = (
    "eval_fsdd_heldout", "eval_festival", "eval_heldout_template", "eval_rephrased", "eval_random",
)  # fmt: skip
DEMO_SYSTEM, DEMO_LM_SYSTEM = "demo model", "demo model+LM"
REFERENCE_SYSTEM, REFERENCE_LM_SYSTEM = "pocketsphinx", "pocketsphinx+LM"


@dataclass(frozen=True)
class Score:
    """One system on one set: error rates on normalised text and the real-time factor (compute / audio)."""

    eval_set: str
    system: str
    utterances: int
    wer: float
    cer: float
    real_time_factor: float


class DemoModelSystem:
    """The exported model through the gateway's own client and decoders: greedy, or with an LM folder."""

    def __init__(self, path: Path, batch_size: int = 16, lm_dir: Path | None = None) -> None:
        self._client = SavedModelClient(path)
        tokenizer = Wav2Vec2CTCTokenizer.from_pretrained(self._client.model_dir.path / "assets")
        self._decoder = (LanguageModelDecoder(LexiconBeamDecoder(lm_dir)) if lm_dir is not None
                         else GreedyDecoder(tokenizer))  # fmt: skip
        self._frame_s = FrameGeometry.of(self._client.config).frame_s
        self._batch_size = batch_size
        self.name = DEMO_LM_SYSTEM if lm_dir is not None else DEMO_SYSTEM

    def transcribe(self, clips: Sequence[np.ndarray]) -> list[str]:
        """Returns one transcript per clip (float32 [samples] at 16 kHz), batched by similar length."""
        order = sorted(range(len(clips)), key=lambda index: clips[index].shape[0])
        texts = [""] * len(clips)
        for start in tqdm(range(0, len(order), self._batch_size), desc=self.name, leave=False):
            indices = order[start : start + self._batch_size]
            batch_texts = [
                " ".join(word.text for word in self._decoder.decode(log_softmax(logits), 0, self._frame_s))
                for logits in self._client.logits_batch([clips[index] for index in indices])
            ]
            for index, text in zip(indices, batch_texts, strict=True):
                texts[index] = text
        return texts


class PocketSphinxTranscriber:
    """Transcribes clips one by one with pocketsphinx's bundled en-us model (it has no batching).

    With `lm_dir`, pocketsphinx gets the same word n-grams as our LM decoder (lowercased: its dictionary's
    spelling) in place of its general English LM, so the two systems are compared with the same knowledge.
    """

    def __init__(self, lm_dir: Path | None = None) -> None:
        from pocketsphinx import Decoder

        self.name = REFERENCE_LM_SYSTEM if lm_dir else REFERENCE_SYSTEM
        options: dict[str, object] = {}
        if lm_dir is not None:
            self._lm_copy = tempfile.NamedTemporaryFile("w", suffix=".arpa", encoding="utf-8")  # noqa: SIM115
            self._lm_copy.write((lm_dir / ARPA_FILE).read_text(encoding="utf-8").lower())
            self._lm_copy.flush()
            options["lm"] = self._lm_copy.name
        self._decoder = Decoder(samprate=SAMPLE_RATE_HZ, loglevel="FATAL", **options)

    def transcribe(self, clips: Sequence[np.ndarray]) -> list[str]:
        """Returns one transcript per clip (float32 [samples] at 16 kHz)."""
        texts = []
        for clip in tqdm(clips, desc=self.name, leave=False):
            pcm = (np.clip(clip, -1.0, 1.0) * 32767.0).astype(np.int16)
            self._decoder.start_utt()
            self._decoder.process_raw(pcm.tobytes(), full_utt=True)
            self._decoder.end_utt()
            hypothesis = self._decoder.hyp()
            texts.append(hypothesis.hypstr if hypothesis is not None else "")
        return texts


def error_rates(references: Sequence[str], hypotheses: Sequence[str]) -> tuple[float, float]:
    """Returns (WER, CER) of `hypotheses` against `references`, both normalised the same way first."""
    refs = [normalize_transcript(text) for text in references]
    hyps = [normalize_transcript(text) for text in hypotheses]
    return jiwer.wer(refs, hyps), jiwer.cer(refs, hyps)


def load_set(manifest: Path, limit: int | None) -> list[Utterance]:
    """Returns the utterances of `manifest` (at most `limit`, evenly spread so every digit stays in)."""
    utterances = [item for item in manifest_utterances(manifest) if isinstance(item, Utterance)]
    if limit is not None and limit < len(utterances):
        step = len(utterances) / limit
        utterances = [utterances[int(index * step)] for index in range(limit)]
    return utterances


def machine() -> str:
    """Returns a one-line description of this machine for the table's header."""
    return f"{platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"


def format_table(scores: Sequence[Score]) -> str:
    """Returns the scores as a text table, with ours / pocketsphinx WER ratio per set where both ran."""
    lines = [f"{'set':<18} {'system':<15} {'utts':>5} {'WER %':>7} {'CER %':>7} {'RTF':>6}"]
    for score in scores:
        lines.append(
            f"{score.eval_set:<18} {score.system:<15} {score.utterances:>5} {100 * score.wer:>7.2f} "
            f"{100 * score.cer:>7.2f} {score.real_time_factor:>6.3f}"
        )
    by_set: dict[str, dict[str, Score]] = {}
    for score in scores:
        by_set.setdefault(score.eval_set, {})[score.system] = score
    for eval_set, systems in by_set.items():
        for ours_name, reference_name in [
            (DEMO_SYSTEM, REFERENCE_SYSTEM), (DEMO_LM_SYSTEM, REFERENCE_SYSTEM), (DEMO_LM_SYSTEM, REFERENCE_LM_SYSTEM)
        ]:  # fmt: skip
            ours, reference = systems.get(ours_name), systems.get(reference_name)
            if ours and reference and reference.wer > 0:
                lines.append(f"{eval_set}: {ours_name} WER / {reference_name} WER = {ours.wer / reference.wer:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="SavedModel dir (with saved_model.pb); omit: pocketsphinx only")
    parser.add_argument("--lm", type=Path, help="also score both systems with this LM folder (`asr lm build`)")
    parser.add_argument("--corpus", type=Path, default=Path("artifacts/corpus"), help="corpus builder output")
    parser.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS), help="manifest names in --corpus")
    parser.add_argument("--limit", type=int, help="at most this many utterances per set")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--json", type=Path, help="also write the scores and a few errors here")
    parser.add_argument("--no-reference", action="store_true", help="score the demo model only, not pocketsphinx")
    parser.add_argument("--show-errors", type=int, default=5, help="print this many wrong hypotheses per run")
    args = parser.parse_args(argv)

    systems: list = []
    if not args.no_reference:
        systems.append(PocketSphinxTranscriber())
        if args.lm is not None:
            systems.append(PocketSphinxTranscriber(args.lm))
    if args.model is not None:
        systems.insert(0, DemoModelSystem(args.model, args.batch_size))
        if args.lm is not None:
            systems.insert(1, DemoModelSystem(args.model, args.batch_size, args.lm))
    scores: list[Score] = []
    examples: dict[str, list[tuple[str, str]]] = {}
    for eval_set in args.sets:
        utterances = load_set(args.corpus / f"{eval_set}.tsv", args.limit)
        clips = [read_16k_mono(utterance.audio_path) for utterance in tqdm(utterances, desc=f"load {eval_set}")]
        audio_s = sum(clip.shape[0] for clip in clips) / SAMPLE_RATE_HZ
        references = [utterance.transcript for utterance in utterances]
        for system in systems:
            system.transcribe(clips[:1])  # warm-up: graph tracing and lazy model loading are not timed
            started = time.perf_counter()
            hypotheses = system.transcribe(clips)
            elapsed_s = time.perf_counter() - started
            wer, cer = error_rates(references, hypotheses)
            scores.append(Score(eval_set, system.name, len(clips), wer, cer, elapsed_s / audio_s))
            wrong = [(r, h) for r, h in zip(references, hypotheses, strict=True)
                     if normalize_transcript(r) != normalize_transcript(h)]  # fmt: skip
            examples[f"{eval_set}/{system.name}"] = wrong[: args.show_errors]

    print(f"machine: {machine()}")
    print(format_table(scores))
    for key, wrong in examples.items():
        for reference, hypothesis in wrong:
            print(f"  {key}: REF {reference!r}  HYP {hypothesis[:120]!r}")
    if args.json is not None:
        args.json.write_text(json.dumps({"machine": machine(), "scores": [asdict(s) for s in scores],
                                         "errors": examples}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
