"""`asr eval` scores what is served: its hypotheses are the exported graph's greedy transcripts, special tokens and
all (one greedy text function, `Wav2Vec2CTCTokenizer.greedy_text_tf`)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from model_export.contract import AUDIO, AUDIO_LENGTH, SERVING_SIGNATURE, TRANSCRIPT
from model_export.export import export_saved_model
from training.evaluate import make_transcriber
from wav2vec2.config import Wav2Vec2Config
from wav2vec2.model import Wav2Vec2ForCTC
from wav2vec2.processor import Wav2Vec2Processor

TINY = Wav2Vec2Config(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                      conv_dim=(16, 16, 16), conv_kernel=(10, 3, 3), conv_stride=(5, 2, 2),
                      num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)  # fmt: skip


def test_eval_hypotheses_equal_the_exported_graphs_transcripts(tmp_path):
    tf.keras.utils.set_random_seed(3)
    model, processor = Wav2Vec2ForCTC(TINY), Wav2Vec2Processor()
    model.build_weights()
    # A bias towards <unk> makes the random model emit special tokens (<s>, <unk>...), which eval once dropped.
    bias = np.zeros(TINY.vocab_size, dtype=np.float32)
    bias[processor.tokenizer.unk_token_id] = 0.5
    model.lm_head.bias.assign(model.lm_head.bias + bias)
    version_dir = export_saved_model(model, processor, tmp_path, "tiny", 1)

    rng = np.random.default_rng(0)
    lengths = np.array([16_000, 11_000, 6_000], dtype=np.int32)
    audio = np.zeros((3, 16_000), dtype=np.float32)
    for row, length in enumerate(lengths):
        audio[row, :length] = 0.1 * rng.standard_normal(length)

    served = (
        tf.saved_model.load(str(version_dir))
        .signatures[SERVING_SIGNATURE](**{AUDIO: tf.constant(audio), AUDIO_LENGTH: tf.constant(lengths)})[TRANSCRIPT]
        .numpy()
    )
    evaluated = make_transcriber(model, processor.tokenizer)(tf.constant(audio), tf.constant(lengths)).numpy()
    assert list(evaluated) == list(served)
    assert any(token in text for text in served for token in (b"<s>", b"</s>", b"<unk>")), served
