"""``qgan._tensors``: the real dtype of a complex state dtype and the argument conversion
that the photonic and qubit simulators share."""

import numpy as np
import pytest
import tensorflow as tf

from qgan._tensors import real_array, real_dtype, to_tensor


@pytest.mark.parametrize(
    "complex_dtype, expected",
    [(tf.complex64, tf.float32), (tf.complex128, tf.float64), ("complex128", tf.float64)],
)
def test_real_dtype_is_the_dtype_of_the_real_part(complex_dtype, expected):
    assert real_dtype(complex_dtype) == expected
    # oracle: TF's own real part of a complex tensor of that dtype
    assert tf.math.real(tf.zeros([1], complex_dtype)).dtype == expected


@pytest.mark.parametrize("bad", [tf.float32, "float64", np.int32, "not a dtype", None])
def test_real_dtype_refuses_anything_but_complex64_and_complex128(bad):
    with pytest.raises(ValueError, match="complex64 or tf.complex128") as info:
        real_dtype(bad)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "value",
    [0.25, 3, [0.5, -1.0], np.array([1, 2], np.int64), tf.constant([0.5, 2.0], tf.float64)],
)
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_to_tensor_keeps_values_and_shape_in_the_requested_dtype(value, dtype):
    out = to_tensor("x", value, dtype)
    expected = np.asarray(value.numpy() if hasattr(value, "numpy") else value, np.float64)
    assert out.dtype == dtype
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-7 if dtype == tf.float32 else 0)


def test_to_tensor_reads_variables():
    var = tf.Variable([1.5, -2.0], dtype=tf.float32)
    np.testing.assert_array_equal(to_tensor("w", var, tf.float64).numpy(), [1.5, -2.0])


@pytest.mark.parametrize(
    "value, words",
    [
        (1 + 2j, "must be real numbers"),
        (np.array([True, False]), "must be real numbers"),
        (["a", "b"], "must be real numbers"),
        (tf.constant([1 + 1j]), "must be real, got dtype complex"),
        (tf.constant([True]), "must be real, got dtype bool"),
        ([[1.0], [1.0, 2.0]], "must be a real number or array"),
    ],
)
def test_to_tensor_refuses_what_is_not_real_in_one_line_naming_the_argument(value, words):
    with pytest.raises(ValueError) as info:
        to_tensor("args['alpha']", value, tf.float32)
    message = str(info.value)
    assert message.startswith("args['alpha'] ") and words in message
    assert "\n" not in message


def test_real_array_accepts_booleans_only_when_asked():
    np.testing.assert_array_equal(real_array("f", [True, False], allow_bool=True), [1, 0])
    with pytest.raises(ValueError, match="^f must be real numbers, got dtype bool$"):
        real_array("f", [True, False])
