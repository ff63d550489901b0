"""The exported SavedModel's signatures against the Python model and processor (same tiny random weights)."""

from __future__ import annotations

import io
import re

import jiwer
import numpy as np
import pytest
import soundfile as sf
import soxr
import tensorflow as tf

from model_export.errors import (
    MSG_EMPTY_BATCH,
    MSG_LENGTH_BATCH_MISMATCH,
    MSG_LENGTH_TOO_LONG,
    MSG_NEGATIVE_LENGTH,
    MSG_NOT_FINITE,
    MSG_NOT_WAV,
)
from model_export.export_module import TOKEN_PAD_ID
from model_export.verify import LOGIT_RTOL, pad_like_tf_serving, reference_outputs
from model_export.wav_decode import decode_wav_batch
from wav2vec2.lengths import frame_lengths, receptive_field

SIGNATURES = {"serving_default", "transcribe_wav", "logits", "conv_features", "logits_from_features"}


def upsample(utterances: list[np.ndarray]) -> list[np.ndarray]:
    return [soxr.resample(u, 8000, 16000, quality="VHQ").astype(np.float32) for u in utterances]


def call(exported, signature: str, audio: np.ndarray, audio_length: np.ndarray) -> dict[str, np.ndarray]:
    outputs = exported.signature(signature)(
        audio=tf.constant(audio, tf.float32), audio_length=tf.constant(audio_length, tf.int32)
    )
    return {key: value.numpy() for key, value in outputs.items()}


def texts(outputs: dict[str, np.ndarray]) -> list[str]:
    return [t.decode("utf-8") for t in outputs["transcript"]]


def assert_logits_close(got: np.ndarray, expected: np.ndarray) -> None:
    assert got.shape == expected.shape
    scale = np.abs(expected).max()
    assert np.abs(got - expected).max() <= LOGIT_RTOL * scale


def test_version_directory_has_the_tf_serving_layout(exported_group) -> None:
    path = exported_group.path
    assert path.name == "1"
    for relative in ("saved_model.pb", "variables/variables.index", "assets/vocab.json",
                     "assets/config.json", "assets.extra/tf_serving_warmup_requests"):  # fmt: skip
        assert (path / relative).is_file(), relative
    assert [p.name for p in path.parent.iterdir()] == ["1"]  # no staging directory left behind
    assert set(exported_group.loaded.signatures.keys()) == SIGNATURES


def test_the_saved_model_holds_the_model_once_and_no_keras_objects(exported_group) -> None:
    """What every load rebuilds (in TF Serving, `asr serve`, each `asr transcribe`): one copy of the model's graph,
    called by the three signatures, its two halves for a stream's feature cache, and the weights, without the
    Keras layer objects or Keras' own serving function. The demo model's load took 3.2-3.8 s of CPU with them,
    1.5-2.0 s without."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel.FromString((exported_group.path / "saved_model.pb").read_bytes())
    graph = saved.meta_graphs[0]
    ops_by_function = {f.signature.name: {node.op for node in f.node_def} for f in graph.graph_def.library.function}
    # The functions that read the weights, but for the one that writes them to a checkpoint (SaveV2).
    with_the_model = [name for name, ops in ops_by_function.items() if "ReadVariableOp" in ops and "SaveV2" not in ops]
    assert len(with_the_model) == 3, with_the_model  # the model, its conv features, its logits from features
    objects = [node.WhichOneof("kind") for node in graph.object_graph_def.nodes]
    assert objects.count("variable") == len(exported_group.model.weights)
    assert objects.count("user_object") <= 3, objects  # the module, its weight list, the signature map


def test_signature_shapes_accept_any_batch_and_length(exported_group) -> None:
    inputs = exported_group.signature("serving_default").structured_input_signature[1]
    assert inputs["audio"].shape.as_list() == [None, None]
    assert inputs["audio_length"].shape.as_list() == [None]
    assert exported_group.signature("transcribe_wav").structured_input_signature[1]["wav"].dtype == tf.string


def test_transcripts_equal_python_model_and_processor(exported_group, speech) -> None:
    utterances = upsample(speech)
    ref_logits, ref_transcripts = reference_outputs(exported_group.model, exported_group.processor, utterances)
    audio, audio_length = pad_like_tf_serving(utterances)
    outputs = call(exported_group, "serving_default", audio, audio_length)
    assert texts(outputs) == ref_transcripts
    logits = call(exported_group, "logits", audio, audio_length)
    for row, expected in enumerate(ref_logits):
        assert logits["logit_length"][row] == expected.shape[0]
        assert_logits_close(logits["logits"][row, : expected.shape[0]], expected)


def test_token_ids_decode_to_the_transcript(exported_group, speech) -> None:
    audio, audio_length = pad_like_tf_serving(upsample(speech))
    outputs = call(exported_group, "serving_default", audio, audio_length)
    tokenizer = exported_group.processor.tokenizer
    for row, transcript in enumerate(texts(outputs)):
        count = outputs["token_count"][row]
        ids = outputs["token_ids"][row]
        assert (ids[count:] == TOKEN_PAD_ID).all() and (ids[:count] >= 0).all()
        pieces = [tokenizer.id_to_token[i] for i in ids[:count]]
        assert "".join(pieces).replace("|", " ").strip() == transcript
        assert 0.0 < outputs["confidence"][row] <= 1.0
        # Token start frames: strictly increasing, inside the utterance, and each frame's argmax is the token.
        frames = outputs["token_frames"][row]
        assert (frames[count:] == TOKEN_PAD_ID).all()
        assert (np.diff(frames[:count]) > 0).all() and (frames[:count] < outputs["logit_length"][row]).all()
        logits = call(exported_group, "logits", audio, audio_length)["logits"][row]
        assert (logits[frames[:count]].argmax(-1) == ids[:count]).all()
        assert outputs["frame_duration_s"][row] == pytest.approx(80 / 16000)  # tiny config: stride 5·4·4 samples


@pytest.mark.parametrize("architecture", ["group", "layer"])
def test_padded_batch_equals_one_call_per_utterance(architecture: str, request, speech) -> None:
    exported = request.getfixturevalue(f"exported_{architecture}")
    # Very different lengths (0.1 s to ~0.7 s of real speech and 2 s of noise), padded the way TF Serving pads.
    noise = 0.05 * np.random.default_rng(1).standard_normal(32000).astype(np.float32)
    utterances = [*upsample(speech), noise, upsample(speech)[0][:1600]]
    audio, audio_length = pad_like_tf_serving(utterances)
    batch = call(exported, "serving_default", audio, audio_length)
    batch_logits = call(exported, "logits", audio, audio_length)
    for row, utterance in enumerate(utterances):
        single = call(exported, "serving_default", utterance[None], np.array([len(utterance)]))
        single_logits = call(exported, "logits", utterance[None], np.array([len(utterance)]))
        assert texts(batch)[row] == texts(single)[0]
        num_frames = single_logits["logit_length"][0]
        assert batch_logits["logit_length"][row] == num_frames
        assert_logits_close(batch_logits["logits"][row, :num_frames], single_logits["logits"][0])
        np.testing.assert_allclose(batch["confidence"][row], single["confidence"][0], rtol=1e-4)


def test_utterances_shorter_than_the_receptive_field_give_empty_transcripts(exported_group) -> None:
    short = receptive_field(exported_group.model.config) - 1  # 399 samples for the base model
    audio = np.full((2, short), 0.1, np.float32)  # and the batch itself is shorter than one frame
    outputs = call(exported_group, "serving_default", audio, np.array([short, 0]))
    assert texts(outputs) == ["", ""]
    assert outputs["logit_length"].tolist() == [0, 0]
    assert outputs["confidence"].tolist() == [0.0, 0.0]


def _band_limit(audio: np.ndarray, rate_hz: int, max_hz: float) -> np.ndarray:
    spectrum = np.fft.rfft(audio)
    spectrum[np.fft.rfftfreq(len(audio), 1 / rate_hz) > max_hz] = 0
    return np.fft.irfft(spectrum, len(audio)).astype(np.float32)


def _wav_cases(speech: list[np.ndarray], to_wav) -> dict[str, tuple[bytes, int]]:
    # Speech band-limited to 3 kHz: below both resamplers' transition bands (ours starts at 0.85 * 4 kHz from
    # 8 kHz), where every correct resampler gives the same signal. Above it the output is a filter-design
    # choice, and this random model amplifies it (see test below).
    telephone = _band_limit(speech[0], 8000, 3000.0)
    cd = _band_limit(soxr.resample(speech[1], 8000, 44100, quality="VHQ").astype(np.float32), 44100, 3000.0)
    return {
        "8 kHz stereo": (to_wav(np.stack([telephone, 0.5 * telephone[::-1]], axis=1), 8000), 8000),
        "44.1 kHz mono": (to_wav(cd, 44100), 44100),
    }


@pytest.mark.parametrize("case", ["8 kHz stereo", "44.1 kHz mono"])
def test_transcribe_wav_equals_serving_default_on_soxr_resampled_audio(
    case: str, exported_group, speech, to_wav
) -> None:
    data, rate_hz = _wav_cases(speech, to_wav)[case]
    stored = sf.read(io.BytesIO(data), dtype="float32")[0]
    mono = stored.mean(axis=1) if stored.ndim == 2 else stored
    reference = soxr.resample(mono, rate_hz, 16000, quality="VHQ").astype(np.float32)
    from_wav = {k: v.numpy() for k, v in exported_group.signature("transcribe_wav")(wav=tf.constant([data])).items()}
    from_audio = call(exported_group, "serving_default", reference[None], np.array([len(reference)]))
    assert from_wav["audio_length"].tolist() == [len(reference)]
    # The two 16 kHz signals differ by ~-87 dB (both filters' stopband/ripple). A random-weight model amplifies
    # relative input differences ~300x in near-silent frames (per-frame LayerNorm of near-zero conv features;
    # measured: ~1% of the logit range), so the logits agree to a few percent of their range, not to float
    # precision. A random model also has near-tie frames (top-2 logit margins down to 1e-4 of the range),
    # whose argmax such a difference can flip: the transcripts may differ in those few characters only. A real
    # resampling bug (wrong rate, no anti-aliasing, a shift) changes the logits by O(range) and most characters.
    assert jiwer.cer(texts(from_audio)[0], texts(from_wav)[0]) < 0.02
    audio, audio_length = decode_wav_batch(tf.constant([data]))
    graph_logits = call(exported_group, "logits", audio.numpy(), audio_length.numpy())["logits"][0]
    soxr_logits = call(exported_group, "logits", reference[None], np.array([len(reference)]))["logits"][0]
    assert graph_logits.shape == soxr_logits.shape
    assert np.abs(graph_logits - soxr_logits).max() < 0.03 * np.abs(soxr_logits).max()


def test_transcribe_wav_equals_serving_default_on_the_graphs_own_decoding(exported_group, speech, to_wav) -> None:
    # The front end adds nothing but decoding and resampling: same audio in, same outputs out.
    wavs = [to_wav(speech[0], 8000), to_wav(np.stack([speech[1]] * 2, axis=1), 8000), to_wav(speech[2], 8000)]
    audio, audio_length = decode_wav_batch(tf.constant(wavs))
    from_wav = exported_group.signature("transcribe_wav")(wav=tf.constant(wavs))
    from_audio = call(exported_group, "serving_default", audio.numpy(), audio_length.numpy())
    assert texts({"transcript": from_wav["transcript"].numpy()}) == texts(from_audio)
    np.testing.assert_allclose(from_wav["confidence"].numpy(), from_audio["confidence"], rtol=1e-5)


BAD_AUDIO = [
    ("length > samples", np.zeros((2, 800)), [800, 801], MSG_LENGTH_TOO_LONG),
    ("negative length", np.zeros((2, 800)), [800, -1], MSG_NEGATIVE_LENGTH),
    ("empty batch", np.zeros((0, 800)), [], MSG_EMPTY_BATCH),
    ("one length for two rows", np.zeros((2, 800)), [800], MSG_LENGTH_BATCH_MISMATCH),
    ("NaN sample", np.full((1, 800), np.nan), [800], MSG_NOT_FINITE),
]


@pytest.mark.parametrize("signature", ["serving_default", "logits"])
@pytest.mark.parametrize(("case", "audio", "audio_length", "message"), BAD_AUDIO, ids=[c[0] for c in BAD_AUDIO])
def test_bad_tensors_are_invalid_arguments(exported_group, signature, case, audio, audio_length, message) -> None:
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(message)):
        call(exported_group, signature, audio, np.array(audio_length))
    # ... and the model keeps serving.
    frames = int(frame_lengths(800, exported_group.model.config))
    assert call(exported_group, signature, np.zeros((1, 800)), np.array([800]))["logit_length"].tolist() == [frames]


def test_non_wav_bytes_are_an_invalid_argument(exported_group) -> None:
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(MSG_NOT_WAV)):
        exported_group.signature("transcribe_wav")(wav=tf.constant([b"ID3\x04 an mp3, not a wav"]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(MSG_EMPTY_BATCH)):
        exported_group.signature("transcribe_wav")(wav=tf.constant([], tf.string))


@pytest.mark.parametrize("architecture", ["group", "layer"])
def test_conv_features_then_logits_from_features_equal_the_logits_signature(architecture, request, speech) -> None:
    """The two halves a stream's feature cache calls: the features of frames `first_frame`.. of a window equal the
    tail of its whole encoding (group norm included: its statistics still span the window), and the logits of the
    whole features equal the `logits` signature's."""
    exported = request.getfixturevalue(f"exported_{architecture}")
    audio = upsample(speech)[0][None]
    inputs = {"audio": tf.constant(audio), "audio_length": tf.constant([audio.shape[1]])}
    whole = exported.signature("conv_features")(**inputs, first_frame=tf.constant(0))
    tail = exported.signature("conv_features")(**inputs, first_frame=tf.constant(40))
    assert int(tail["feature_length"][0]) == int(whole["feature_length"][0]) - 40
    np.testing.assert_allclose(tail["features"].numpy(), whole["features"].numpy()[:, 40:], atol=1e-5)
    from_features = exported.signature("logits_from_features")(
        features=whole["features"], feature_length=whole["feature_length"]
    )
    assert_logits_close(from_features["logits"].numpy(), call(exported, "logits", audio, [audio.shape[1]])["logits"])
