"""The int8 model of an export: the `logits` signature as a TensorFlow Lite flatbuffer with int8 weights.

Why TensorFlow Lite: on CPUs, its XNNPACK delegate runs dynamically quantized int8 kernels (int8 weights,
activations quantized per call, "qd8") for the fully-connected, batch-matmul and 2-D convolution ops, which is
where the model spends its time: the transformer's projections and the feature encoder's convolutions (a Conv1D
becomes a CONV_2D). Dynamic-range quantization needs no calibration data, and keeps everything else (group/layer
norm, softmax, the masking) in float32.

One convolution stays float32: the first, whose input is the waveform itself. Quantizing its input would round
the audio to 8 bits over the whole utterance, and the group norm after it scales each channel to unit variance,
so a channel that sees little of the signal's energy would come out as mostly rounding noise (8-bit audio alone
moves a tiny random model's logits by 7-65% of their range). It has one input channel and about 0.2% of the
base model's multiply-adds, so float32 there costs nothing measurable.

Measurements, and the comparison with the other engines, are in model_export/README.md ("int8").

The weights are frozen into the graph as constants before conversion. Converting the SavedModel (or a Keras model)
directly leaves them out of the flatbuffer (the demo model: 0.2 MB instead of 4.2 MB), as resource variables that
nothing initialises. The frozen graph is saved as a variable-free SavedModel with the one `logits` signature, so the
flatbuffer keeps that signature's name and its input and output names, which TF Serving's TFLite session serves as
they are. Only TensorFlow Lite's builtin ops are allowed: that session has no TensorFlow ("flex") ops. The request
checks of the SavedModel (`tf.debugging.assert_*`) have no TensorFlow Lite form and are dropped by the converter;
callers of the flatbuffer check their inputs themselves (`engine.tflite_client`).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as tflite_schema
from tensorflow.lite.tools import flatbuffer_utils
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from model_export.contract import LOGIT_LENGTH, LOGITS, LOGITS_SIGNATURE, TFLITE_FILE
from model_export.errors import ExportError
from model_export.export_module import AUDIO_LENGTH_SPEC, AUDIO_SPEC, AUTOGRAPH, ServingModule
from wav2vec2.graph_target import tflite_builtins

logger = logging.getLogger(__name__)


def frozen_logits_module(module: ServingModule) -> tf.Module:
    """Returns a variable-free module whose `logits` function is the export's, weights as constants.

    The model is traced again, for TensorFlow Lite's builtin ops (`wav2vec2.graph_target`): the SavedModel's trace
    holds forms that have no TensorFlow Lite op.
    """
    with tflite_builtins():
        compute_logits = tf.function(
            module.compute_logits.python_function, input_signature=[AUDIO_SPEC, AUDIO_LENGTH_SPEC], autograph=AUTOGRAPH
        )
        frozen = convert_variables_to_constants_v2(compute_logits.get_concrete_function())

    def logits(audio: tf.Tensor, audio_length: tf.Tensor) -> dict[str, tf.Tensor]:
        logits, logit_length = frozen(audio, audio_length)
        return {LOGITS: logits, LOGIT_LENGTH: logit_length}

    frozen_module = tf.Module()
    frozen_module.logits = tf.function(logits, input_signature=[AUDIO_SPEC, AUDIO_LENGTH_SPEC], autograph=AUTOGRAPH)
    return frozen_module


def waveform_convolutions_to_float32(flatbuffer: bytes) -> tuple[bytes, int]:
    """Returns the flatbuffer with each int8 CONV_2D over a single input channel dequantized, and how many.

    The waveform is the model's only single-channel convolution input (the feature encoder's first layer). Its
    int8 weights are dequantized with their own per-channel scales: TensorFlow Lite then runs that convolution in
    float32, on unrounded audio.
    """
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffer))
    conv_opcodes = {
        index
        for index, opcode in enumerate(model.operatorCodes)
        if max(opcode.builtinCode, opcode.deprecatedBuiltinCode) == tflite_schema.BuiltinOperator.CONV_2D
    }
    dequantized = 0
    for subgraph in model.subgraphs:
        for operator in subgraph.operators:
            if operator.opcodeIndex not in conv_opcodes:
                continue
            weights = subgraph.tensors[operator.inputs[1]]  # [out_channels, height, width, in_channels]
            quantization = weights.quantization
            if weights.type != tflite_schema.TensorType.INT8 or weights.shape[-1] != 1 or quantization is None:
                continue
            buffer = model.buffers[weights.buffer]
            scale_shape = [-1 if axis == quantization.quantizedDimension else 1 for axis in range(len(weights.shape))]
            values = np.asarray(buffer.data, dtype=np.uint8).view(np.int8).reshape(weights.shape)
            values = values.astype(np.float32) * np.asarray(quantization.scale, np.float32).reshape(scale_shape)
            buffer.data = np.frombuffer(values.tobytes(), dtype=np.uint8)
            weights.type = tflite_schema.TensorType.FLOAT32
            weights.quantization = None
            dequantized += 1
    return flatbuffer_utils.convert_object_to_bytearray(model), dequantized


def write_int8_tflite(module: ServingModule, version_dir: str | Path) -> Path:
    """Returns `version_dir/model.tflite`: the module's `logits` signature with int8 weights."""
    frozen = frozen_logits_module(module)
    with tempfile.TemporaryDirectory(prefix="frozen-logits-") as frozen_dir:
        tf.saved_model.save(frozen, frozen_dir, signatures={LOGITS_SIGNATURE: frozen.logits})
        converter = tf.lite.TFLiteConverter.from_saved_model(frozen_dir, signature_keys=[LOGITS_SIGNATURE])
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # no representative dataset: dynamic-range int8
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        try:
            flatbuffer = converter.convert()
        except Exception as error:  # the converter raises ConverterError and plain Exceptions from its MLIR passes
            # Its message holds the whole MLIR module; the line naming the unsupported ops is the one that helps.
            lines = str(error).splitlines()
            summary = next((line for line in lines if "ops:" in line), lines[0] if lines else repr(error))
            raise ExportError(f"cannot convert the model to an int8 TensorFlow Lite model: {summary}") from error
    # None in small models: the converter leaves weights under 1024 elements in float32 anyway.
    flatbuffer, _ = waveform_convolutions_to_float32(flatbuffer)
    path = Path(version_dir) / TFLITE_FILE
    path.write_bytes(flatbuffer)
    logger.info("wrote %s (%.1f MB)", path, len(flatbuffer) / 1e6)
    return path
