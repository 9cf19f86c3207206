"""Makes tests/golden/tiny.safetensors with the reference `safetensors` package (not with secateur).

Run: pip install safetensors==0.8.0 numpy && python3 tests/golden/make_tiny_safetensors.py
The tensors' values are written below; tests/safetensors_test.ts repeats them by hand.
BF16 has no numpy dtype: its bytes are the top halves of float32 values that BF16 holds exactly.
"""
import os
import numpy as np
from safetensors import TensorSpec, serialize


def bf16_bits(values):
    bits = np.array(values, dtype="<f4").view("<u4")
    assert np.all(bits & 0xFFFF == 0), "values must be exact in bfloat16"
    return (bits >> 16).astype("<u2")


def entry(array, dtype=None):
    # serialize() reads the bytes at data_ptr, so `arrays` keeps every array alive.
    arrays.append(array)
    return TensorSpec(dtype=dtype or array.dtype.name, shape=list(array.shape),
                      data_ptr=array.ctypes.data, data_len=array.nbytes)


arrays = []


tensors = {
    "a_f64": entry(np.array([1.5, -0.25], dtype="<f8")),
    "b_i64": entry(np.array([-3, 2**40], dtype="<i8")),
    "c_f32": entry(np.array([[0.5, -1, 2], [3.25, -4.5, 1e-3]], dtype="<f4")),
    "d_i32": entry(np.array([-1, 0, 7], dtype="<i4")),
    "e_bf16": entry(bf16_bits([1.0, -2.5, 0.15625]), "bfloat16"),
    "f_f16": entry(np.array([1, -2, 65504, 2**-24, np.inf], dtype="<f2")),
    "g_u8": entry(np.array([0, 1, 128, 255], dtype="u1")),
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny.safetensors")
with open(out, "wb") as f:
    f.write(serialize(tensors, metadata={"format": "np"}))
print(out)
