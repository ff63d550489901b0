"""TF Serving's API without TensorFlow (`model_export.serving_api`, `model_export.tensor_proto`): the same protos
as the official `tensorflow-serving-api`, the same bytes on the wire as TensorFlow's own tensor conversions."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2

from model_export.contract import batch_inputs, describe_signature
from model_export.serving_api import DESCRIPTOR_SET_FILE, message
from model_export.serving_api_source import installed_descriptor_set
from model_export.tensor_proto import UnsupportedTensorError, to_ndarray, to_tensor_proto

TensorProto = message("tensorflow.TensorProto")

# The tensors a `logits` call carries, with the sizes where TensorFlow switches layout (one value vs many).
ARRAYS = {
    "audio batch": np.random.default_rng(0).standard_normal((2, 400)).astype(np.float32),
    "one utterance of one sample": np.array([[0.25]], np.float32),
    "audio_length of a batch": np.array([400, 320], np.int32),
    "audio_length of one utterance": np.array([400], np.int32),
    "logits": np.random.default_rng(1).standard_normal((2, 3, 32)).astype(np.float32),
    "empty": np.zeros((0, 32), np.float32),
    "int64 scalar": np.array(7, np.int64),
    "float16": np.array([1.5, -2.0], np.float16),
    "bool": np.array([True, False]),
}


def test_the_committed_protos_are_the_installed_tensorflow_serving_apis():
    assert DESCRIPTOR_SET_FILE.read_bytes() == installed_descriptor_set(), (
        "model_export/serving_api.binpb is stale: run `python -m model_export.serving_api_source`"
    )


@pytest.mark.parametrize("array", ARRAYS.values(), ids=ARRAYS.keys())
def test_tensors_are_written_as_tensorflow_writes_them_and_read_back(array):
    assert to_tensor_proto(array).SerializeToString() == tf.make_tensor_proto(array).SerializeToString()
    back = to_ndarray(TensorProto.FromString(tf.make_tensor_proto(array).SerializeToString()))
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_tensors_in_typed_fields_are_read_as_tensorflow_reads_them():
    for proto in (
        tf.make_tensor_proto(1.5, shape=[2, 3]),  # one value fills the shape
        tf.make_tensor_proto([1, 2, 3], dtype=tf.int32),
        tf.make_tensor_proto(np.float16(2.5), shape=[2]),
        tf.make_tensor_proto([b"HELLO WORLD", b""]),  # a `transcript` output
    ):
        ours = to_ndarray(TensorProto.FromString(proto.SerializeToString()))
        np.testing.assert_array_equal(ours, tf.make_ndarray(proto))


def test_a_tensor_of_another_dtype_is_a_clear_error():
    with pytest.raises(UnsupportedTensorError, match="complex64"):
        to_tensor_proto(np.zeros(2, np.complex64))
    with pytest.raises(UnsupportedTensorError, match="DataType 8"):
        to_ndarray(TensorProto.FromString(tf.make_tensor_proto(np.zeros(2, np.complex64)).SerializeToString()))


def test_a_predict_request_is_the_official_message_on_the_wire():
    request = message("tensorflow.serving.PredictRequest")()
    request.model_spec.name, request.model_spec.signature_name = "wav2vec2", "logits"
    request.model_spec.version.value = 3
    official = predict_pb2.PredictRequest()
    official.model_spec.name, official.model_spec.signature_name = "wav2vec2", "logits"
    official.model_spec.version.value = 3
    for name, value in batch_inputs([np.ones(400, np.float32), np.ones(320, np.float32)]).items():
        request.inputs[name].CopyFrom(to_tensor_proto(value))
        official.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    request.output_filter.extend(["logits", "logit_length"])
    official.output_filter.extend(["logits", "logit_length"])
    assert request.SerializeToString(deterministic=True) == official.SerializeToString(deterministic=True)


def test_model_metadata_from_tf_serving_describes_the_signature_as_the_saved_model_does():
    signature = get_model_metadata_pb2.SignatureDefMap()
    signature.signature_def["logits"].inputs["audio"].dtype = tf.float32.as_datatype_enum
    signature.signature_def["logits"].inputs["audio"].tensor_shape.dim.add(size=-1)
    signature.signature_def["logits"].outputs["logit_length"].dtype = tf.int32.as_datatype_enum
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.metadata["signature_def"].Pack(signature)

    received = message("tensorflow.serving.GetModelMetadataResponse").FromString(response.SerializeToString())
    ours = message("tensorflow.serving.SignatureDefMap")()
    assert received.metadata["signature_def"].Unpack(ours)
    assert describe_signature(ours.signature_def["logits"]) == describe_signature(signature.signature_def["logits"])
    assert describe_signature(ours.signature_def["logits"]) == (
        {"audio": {"dtype": "float", "shape": [None]}},
        {"logit_length": {"dtype": "int32", "shape": []}},
    )
