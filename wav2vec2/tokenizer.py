"""Character tokenizer for CTC: text ↔ ids with `|` as the word delimiter, as Hugging Face's Wav2Vec2CTCTokenizer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from wav2vec2.errors import VocabularyError

if TYPE_CHECKING:
    import tensorflow as tf

# TensorFlow (the graph-op decoding below) is imported by the methods that use it: the vocabulary and the token
# table are what the gateway's numpy decoders read, and the TF Serving gateway runs without TensorFlow.

# The vocabulary of facebook/wav2vec2-base-960h, so that `Wav2Vec2Processor(is_tokenizer=True)` works offline.
BASE_960H_VOCAB: dict[str, int] = {
    "<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "E": 5, "T": 6, "A": 7, "O": 8, "N": 9, "I": 10,
    "H": 11, "S": 12, "R": 13, "D": 14, "L": 15, "U": 16, "M": 17, "W": 18, "C": 19, "F": 20, "G": 21,
    "Y": 22, "P": 23, "B": 24, "V": 25, "K": 26, "'": 27, "X": 28, "J": 29, "Q": 30, "Z": 31,
}  # fmt: skip


class Wav2Vec2CTCTokenizer:
    """Maps text to character ids and CTC id sequences back to text.

    Encoding upper-cases (the HF option is confusingly called `do_lower_case`), turns spaces into the word
    delimiter and maps unknown characters to `<unk>`. Decoding collapses repeats, drops the pad (= CTC blank)
    token, turns the delimiter into a space and strips, exactly as HF's `decode` does.
    """

    def __init__(
        self,
        vocab: dict[str, int] | None = None,
        pad_token: str = "<pad>",
        unk_token: str = "<unk>",
        bos_token: str = "<s>",
        eos_token: str = "</s>",
        word_delimiter_token: str = "|",
        do_lower_case: bool = False,
    ) -> None:
        self.vocab = dict(BASE_960H_VOCAB if vocab is None else vocab)
        check_vocab_ids(self.vocab)
        for token in (pad_token, unk_token, word_delimiter_token):
            if token not in self.vocab:
                raise VocabularyError(f"special token {token!r} is missing from the vocabulary {sorted(self.vocab)}")
        self.pad_token = pad_token
        self.unk_token = unk_token
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.word_delimiter_token = word_delimiter_token
        self.do_lower_case = do_lower_case
        self.id_to_token = {index: token for token, index in self.vocab.items()}

    @property
    def pad_token_id(self) -> int:
        return self.vocab[self.pad_token]

    @property
    def unk_token_id(self) -> int:
        return self.vocab[self.unk_token]

    @property
    def vocab_size(self) -> int:
        """The number of tokens, which is the number of CTC head outputs (ids are 0..vocab_size-1)."""
        return len(self.vocab)

    @property
    def special_tokens(self) -> set[str]:
        return {self.pad_token, self.unk_token, self.bos_token, self.eos_token}

    def tokens_table(self) -> list[str]:
        """Token strings indexed by id."""
        return [self.id_to_token[index] for index in range(self.vocab_size)]

    @classmethod
    def from_vocab_file(cls, path: str | Path, **options: object) -> Wav2Vec2CTCTokenizer:
        vocab = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(vocab, **options)  # type: ignore[arg-type]

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> Wav2Vec2CTCTokenizer:
        """Reads `vocab.json` and, where present, `tokenizer_config.json` of an HF checkpoint directory."""
        directory = Path(directory)
        options: dict[str, object] = {}
        config_path = directory / "tokenizer_config.json"
        if config_path.exists():
            tokenizer_config = json.loads(config_path.read_text(encoding="utf-8"))
            for key in ("pad_token", "unk_token", "bos_token", "eos_token", "word_delimiter_token", "do_lower_case"):
                value = tokenizer_config.get(key)
                if isinstance(value, dict):  # AddedToken serialised by older transformers
                    value = value.get("content")
                if value is not None:
                    options[key] = value
        return cls.from_vocab_file(directory / "vocab.json", **options)

    def save_pretrained(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False, indent=1) + "\n")
        tokenizer_config = {
            "tokenizer_class": "Wav2Vec2CTCTokenizer",
            "pad_token": self.pad_token,
            "unk_token": self.unk_token,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
            "word_delimiter_token": self.word_delimiter_token,
            "do_lower_case": self.do_lower_case,
        }
        (directory / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2) + "\n")

    # --- encode -------------------------------------------------------------------------------------------

    def normalize_text(self, text: str) -> str:
        """The text as the vocabulary spells it: upper case when the vocab is, single spaces, stripped."""
        text = " ".join(text.split())
        characters = [token for token in self.vocab if len(token) == 1]
        if self.do_lower_case or (any(c.isupper() for c in characters) and not any(c.islower() for c in characters)):
            text = text.upper()
        return text

    def encode(self, text: str) -> list[int]:
        tokens = self.normalize_text(text).replace(" ", self.word_delimiter_token)
        unk = self.unk_token_id
        return [self.vocab.get(char, unk) for char in tokens]

    def __call__(self, text: str | Sequence[str]) -> list[int] | list[list[int]]:
        if isinstance(text, str):
            return self.encode(text)
        return [self.encode(t) for t in text]

    # --- decode -------------------------------------------------------------------------------------------

    def ids_to_text_tf(self, ids: tf.RaggedTensor, skip_special_tokens: bool = False) -> tf.Tensor:
        """`[batch]` strings from ragged collapsed ids, in graph ops (the SavedModel uses this)."""
        import tensorflow as tf

        tokens = tf.constant(self.tokens_table())
        pieces = tf.gather(tokens, ids)
        if skip_special_tokens:
            special = tf.constant(sorted(self.special_tokens))
            is_special = tf.reduce_any(tf.equal(tf.expand_dims(pieces, -1), special), axis=-1)
            pieces = tf.ragged.boolean_mask(pieces, tf.logical_not(is_special))
        text = tf.strings.reduce_join(pieces, axis=-1)
        text = tf.strings.regex_replace(text, re.escape(self.word_delimiter_token), " ")
        text = tf.strings.strip(text)
        if self.do_lower_case:
            text = tf.strings.lower(text)
        return text

    def greedy_text_tf(self, logits: tf.Tensor, logit_length: tf.Tensor | None) -> tf.Tensor:
        """`[batch]` greedy transcripts of `[batch, frames, vocab]` logits: the one greedy text function, used by
        the export graph and `asr eval` (special tokens the model emits are kept, as served)."""
        import tensorflow as tf

        from wav2vec2.ctc_decode import ctc_greedy_ids

        text = self.ids_to_text_tf(ctc_greedy_ids(logits, logit_length, self.pad_token_id))
        # Two delimiters with a blank between them both survive the collapse; they are one word break, not two
        # spaces (HF's `decode`, which `ids_to_text_tf` matches, would keep both).
        return tf.strings.regex_replace(text, " +", " ")

    def batch_decode(
        self, sequences: Iterable[Sequence[int]] | np.ndarray, skip_special_tokens: bool = False
    ) -> list[str]:
        """Texts for a batch of CTC id sequences (per-frame argmax ids or token ids).

        `skip_special_tokens` drops `<s>`, `</s>`, `<unk>` after the CTC collapse. HF drops the blank before
        collapsing, which merges letters a blank separated ("HELLO" → "HELO"); we do not copy that.
        """
        rows = [list(map(int, row)) for row in sequences]
        if not rows:
            return []
        import tensorflow as tf

        from wav2vec2.ctc_decode import collapse_ctc_ids

        ragged = tf.ragged.constant(rows, dtype=tf.int32)
        frame_lengths = ragged.row_lengths()
        dense = ragged.to_tensor(default_value=self.pad_token_id)
        collapsed = collapse_ctc_ids(dense, tf.cast(frame_lengths, tf.int32), self.pad_token_id)
        texts = self.ids_to_text_tf(collapsed, skip_special_tokens=skip_special_tokens)
        return [t.decode("utf-8") for t in texts.numpy()]

    def decode(self, ids: Sequence[int] | np.ndarray, skip_special_tokens: bool = False) -> str:
        """Text for one CTC id sequence `[frames]`: repeats collapsed, pad dropped, `|` → space, stripped."""
        array = np.asarray(ids)
        if array.ndim != 1:
            raise ValueError(
                f"decode takes one id sequence of shape [frames], got shape {array.shape}: "
                "use batch_decode for a batch (one text per row)"
            )
        return self.batch_decode([array.tolist()], skip_special_tokens)[0]


def check_vocab_ids(vocab: dict[str, int]) -> None:
    """Refuses a vocabulary whose ids are not exactly 0..len-1: the CTC head has one output per id, and a gap
    or a shared id would leave an output without a token (the export and the decoders need a full table)."""
    ids = sorted(vocab.values())
    if ids != list(range(len(vocab))):
        missing = sorted(set(range(max(ids, default=-1) + 1)) - set(ids))
        shared = sorted({index for index in ids if ids.count(index) > 1})
        raise VocabularyError(
            f"vocabulary ids must be 0..{len(vocab) - 1}, one per token; missing ids {missing[:10]}, "
            f"ids shared by several tokens {shared[:10]}"
        )
