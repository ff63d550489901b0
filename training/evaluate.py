"""Word and character error rates of a model on a TFRecord split, with a per-utterance report."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import jiwer
import tensorflow as tf
from tqdm import tqdm

from training.task import batch_logits
from wav2vec2 import SAMPLE_RATE_HZ, Wav2Vec2CTCTokenizer, Wav2Vec2ForCTC
from wav2vec2.lengths import frame_lengths


@dataclass(frozen=True)
class UtteranceResult:
    """One utterance's reference, greedy hypothesis and error counts."""

    utterance_id: str
    reference: str
    hypothesis: str
    duration_s: float
    word_errors: int
    num_words: int
    char_errors: int
    num_chars: int

    @property
    def wer(self) -> float:
        return self.word_errors / max(self.num_words, 1)


@dataclass(frozen=True)
class EvalReport:
    """Corpus-level WER/CER (total edits over total reference words/characters) and every utterance."""

    utterances: tuple[UtteranceResult, ...]

    @property
    def wer(self) -> float:
        return sum(u.word_errors for u in self.utterances) / max(sum(u.num_words for u in self.utterances), 1)

    @property
    def cer(self) -> float:
        return sum(u.char_errors for u in self.utterances) / max(sum(u.num_chars for u in self.utterances), 1)

    def worst(self, count: int = 10) -> list[UtteranceResult]:
        """Returns the utterances with the most word errors (then highest WER) first."""
        return sorted(self.utterances, key=lambda u: (u.word_errors, u.wer), reverse=True)[:count]

    def summary(self, worst: int = 10) -> str:
        lines = [
            f"WER {self.wer:.4f}  CER {self.cer:.4f}  over {len(self.utterances)} utterances "
            f"({sum(u.duration_s for u in self.utterances) / 3600:.3f} h)"
        ]
        for u in self.worst(worst):
            lines.append(
                f"  {u.utterance_id}: {u.word_errors}/{u.num_words} word errors\n"
                f"    REF: {u.reference}\n    HYP: {u.hypothesis}"
            )
        return "\n".join(lines)

    def write_json(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        body = {
            "wer": self.wer,
            "cer": self.cer,
            "num_utterances": len(self.utterances),
            "utterances": [asdict(u) | {"wer": u.wer} for u in self.utterances],
        }
        Path(path).write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    def write_csv(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with Path(path).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=[*UtteranceResult.__dataclass_fields__, "wer"])
            writer.writeheader()
            for u in self.utterances:
                writer.writerow(asdict(u) | {"wer": u.wer})


def score_utterance(utterance_id: str, reference: str, hypothesis: str, duration_s: float) -> UtteranceResult:
    """Returns the word and character edit counts of one (already normalised) pair."""
    if reference:
        words = jiwer.process_words(reference, hypothesis)
        chars = jiwer.process_characters(reference, hypothesis)
        word_errors = words.substitutions + words.deletions + words.insertions
        char_errors = chars.substitutions + chars.deletions + chars.insertions
    else:  # jiwer rejects empty references: every hypothesis word is an insertion
        word_errors, char_errors = len(hypothesis.split()), len(hypothesis)
    return UtteranceResult(
        utterance_id,
        reference,
        hypothesis,
        duration_s,
        word_errors,
        len(reference.split()),
        char_errors,
        len(reference),
    )


def make_transcriber(model: Wav2Vec2ForCTC, tokenizer: Wav2Vec2CTCTokenizer):
    """Returns a graph function batch → `[batch]` greedy transcripts (strings), traced once for all shapes."""

    @tf.function(reduce_retracing=True, autograph=False)
    def transcribe(audio: tf.Tensor, audio_length: tf.Tensor) -> tf.Tensor:
        logits = batch_logits(model, {"audio": audio, "audio_length": audio_length}, training=False)
        # The served graph's own greedy text function: evaluation scores exactly what a client would get.
        return tokenizer.greedy_text_tf(logits, frame_lengths(audio_length, model.config))

    return transcribe


def evaluate_dataset(
    model: Wav2Vec2ForCTC,
    tokenizer: Wav2Vec2CTCTokenizer,
    dataset: Iterable[dict[str, tf.Tensor]],
    max_batches: int | None = None,
    progress: bool = False,
) -> EvalReport:
    """Returns the report over a dataset of `keep_text` batches (see `training.data.pipeline`).

    References and hypotheses are compared after the tokenizer's own text normalisation (case, spaces).
    """
    transcribe = make_transcriber(model, tokenizer)
    results = []
    for index, batch in enumerate(tqdm(dataset, desc="eval", unit="batch", disable=not progress)):
        if max_batches is not None and index >= max_batches:
            break
        hypotheses = transcribe(batch["audio"], batch["audio_length"]).numpy()
        for utterance_id, reference, hypothesis, length in zip(
            batch["utterance_id"].numpy(), batch["transcript"].numpy(), hypotheses,
            batch["audio_length"].numpy(), strict=True,
        ):  # fmt: skip
            results.append(score_utterance(
                utterance_id.decode("utf-8"),
                tokenizer.normalize_text(reference.decode("utf-8")),
                tokenizer.normalize_text(hypothesis.decode("utf-8")),
                int(length) / SAMPLE_RATE_HZ,
            ))  # fmt: skip
    return EvalReport(tuple(results))
