"""Real dtypes and argument-to-tensor conversion shared by the photonic and qubit simulators.

Both simulators take real arguments (Python numbers, NumPy arrays, ``tf.Tensor`` or
``tf.Variable``) and a complex state dtype; the arguments are cast to the matching real
dtype, and anything that is not real numbers is a one-line ``ValueError`` naming the
argument.

TensorFlow is imported inside the functions that need it: :func:`real_array` serves
``qgan.qubit.model``, which config validation imports, and that must not cost a
TensorFlow import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf


def real_dtype(dtype) -> tf.DType:
    """The real dtype matching a complex one: float32 for complex64, float64 for complex128.

    Raises:
        ValueError: ``dtype`` is not ``tf.complex64`` or ``tf.complex128`` (nor a name or
            NumPy dtype of one of them).
    """
    import tensorflow as tf

    try:
        dtype = tf.as_dtype(dtype)
    except TypeError:
        dtype = None
    if dtype == tf.complex64:
        return tf.float32
    if dtype == tf.complex128:
        return tf.float64
    raise ValueError(f"dtype must be tf.complex64 or tf.complex128, got {dtype!r}")


def to_tensor(name: str, value, dtype) -> tf.Tensor:
    """``value`` as a tensor of the real ``dtype`` (same shape), for argument ``name``.

    Args:
        name: how error messages name the argument (e.g. ``"features"`` or ``"args['x']"``).
        value: real numbers: a Python number or nested list, a NumPy array, or a
            ``tf.Tensor`` / ``tf.Variable`` (or Keras variable) of a float or integer dtype.
        dtype: the real TF dtype to cast to (``tf.float32`` or ``tf.float64``).

    Raises:
        ValueError: one line naming ``name`` when ``value`` is not real numbers (complex,
            bool, strings, ragged lists, objects).
    """
    import tensorflow as tf

    if isinstance(value, (tf.Tensor, tf.Variable)) or hasattr(value, "value"):
        try:
            value = tf.convert_to_tensor(value)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be a real number or array: {err}") from None
        if not (value.dtype.is_floating or value.dtype.is_integer):
            raise ValueError(f"{name} must be real, got dtype {value.dtype.name}")
        return tf.cast(value, dtype)
    return tf.constant(real_array(name, value), dtype=dtype)


def real_array(name: str, value, *, allow_bool: bool = False) -> np.ndarray:
    """``value`` as a NumPy array of real numbers (its own float or integer dtype).

    Args:
        name: how error messages name the argument.
        value: anything ``np.asarray`` takes (numbers, nested lists, arrays).
        allow_bool: accept booleans too (as 0/1 features).

    Raises:
        ValueError: one line naming ``name`` when ``value`` is not real numbers.
    """
    try:
        array = np.asarray(value)
    except Exception as err:  # noqa: BLE001 - any conversion failure is the caller's input
        raise ValueError(f"{name} must be a real number or array: {err}") from None
    if array.dtype.kind not in ("fiub" if allow_bool else "fiu"):
        raise ValueError(f"{name} must be real numbers, got dtype {array.dtype}")
    return array
