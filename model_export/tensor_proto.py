"""NumPy arrays to and from `tensorflow.TensorProto` without TensorFlow: what `tf.make_tensor_proto` and
`tf.make_ndarray` do for the numeric and string tensors a signature call carries.

Both sides follow TensorFlow's `tensor_util`: a numeric array of more than one value travels as `tensor_content`
(its bytes in C order), anything else in the typed `*_val` fields, where a single value read back stands for a
tensor filled with it. TF Serving may answer in either layout, so both are read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from model_export.serving_api import data_type, message

__all__ = ["UnsupportedTensorError", "to_ndarray", "to_tensor_proto"]


class UnsupportedTensorError(ValueError):
    """A tensor of a dtype this module does not convert (it names the dtype)."""


# numpy dtype -> (tensorflow.DataType name, the TensorProto field holding values one by one).
_NUMPY_TO_TF: dict[np.dtype, tuple[str, str]] = {
    np.dtype(np.float16): ("DT_HALF", "half_val"),
    np.dtype(np.float32): ("DT_FLOAT", "float_val"),
    np.dtype(np.float64): ("DT_DOUBLE", "double_val"),
    np.dtype(np.int8): ("DT_INT8", "int_val"),
    np.dtype(np.int16): ("DT_INT16", "int_val"),
    np.dtype(np.int32): ("DT_INT32", "int_val"),
    np.dtype(np.int64): ("DT_INT64", "int64_val"),
    np.dtype(np.uint8): ("DT_UINT8", "int_val"),
    np.dtype(np.bool_): ("DT_BOOL", "bool_val"),
}
# tensor_util's _TENSOR_CONTENT_TYPES among the dtypes above: all but bool.
_CONTENT_DTYPES = frozenset(_NUMPY_TO_TF) - {np.dtype(np.bool_)}
_STRING = "DT_STRING"


def _tf_to_numpy() -> dict[int, tuple[np.dtype, str]]:
    return {data_type(name): (dtype, field) for dtype, (name, field) in _NUMPY_TO_TF.items()}


def to_tensor_proto(array: np.ndarray) -> Any:
    """Return the TensorProto of a numeric array, byte for byte what `tf.make_tensor_proto(array)` gives."""
    array = np.asarray(array)
    if array.dtype not in _NUMPY_TO_TF:
        raise UnsupportedTensorError(
            f"cannot send a {array.dtype} tensor to TF Serving; supported: {sorted(map(str, _NUMPY_TO_TF))}"
        )
    proto = message("tensorflow.TensorProto")(dtype=data_type(_NUMPY_TO_TF[array.dtype][0]))
    proto.tensor_shape.SetInParent()  # a scalar's shape is present and empty, as TensorFlow writes it
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    if array.dtype in _CONTENT_DTYPES and array.size > 1:
        proto.tensor_content = np.ascontiguousarray(array).tobytes()
    elif array.dtype == np.float16:  # float16 bit patterns, one per int32
        proto.half_val.extend(array.ravel().view(np.uint16).tolist())
    else:
        getattr(proto, _NUMPY_TO_TF[array.dtype][1]).extend(array.ravel().tolist())
    return proto


def to_ndarray(proto: Any) -> np.ndarray:
    """Return the array a TensorProto holds (numeric or string), shaped as it says."""
    shape = tuple(dim.size for dim in proto.tensor_shape.dim)
    num_elements = int(np.prod(shape, dtype=np.int64))
    if proto.dtype == data_type(_STRING):
        values = np.array(list(proto.string_val), dtype=object)
        return _fill(values, shape, num_elements)
    known = _tf_to_numpy()
    if proto.dtype not in known:
        raise UnsupportedTensorError(f"TF Serving answered a tensor of DataType {proto.dtype}, which is not numeric")
    dtype, field = known[proto.dtype]
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=dtype).reshape(shape).copy()
    values = getattr(proto, field)
    if field == "half_val":  # float16 bit patterns, one per int32
        array = np.array(values, dtype=np.uint16).view(np.float16)
    else:
        array = np.array(values, dtype=dtype)
    return _fill(array, shape, num_elements)


def _fill(values: np.ndarray, shape: tuple[int, ...], num_elements: int) -> np.ndarray:
    if values.size == num_elements:
        return values.reshape(shape)
    if values.size == 1:
        return np.full(shape, values[0], dtype=values.dtype)
    raise ValueError(f"a TensorProto of shape {list(shape)} holds {values.size} values")
