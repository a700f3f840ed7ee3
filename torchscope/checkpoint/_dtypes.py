"""TensorFlow ``DataType`` codes and how their bytes become numpy and torch values.

>>> DTYPES[1].name, DTYPES[1].storage
('float32', dtype('float32'))
>>> DTYPES[14].name, DTYPES[14].storage   # bfloat16 is stored as its 16 raw bits
('bfloat16', dtype('uint16'))

bfloat16 has no numpy dtype. When the optional ``ml_dtypes`` package is importable (TensorFlow
itself depends on it) values come back as ``ml_dtypes.bfloat16`` arrays, exactly what TF returns.
Without it they come back as float32, which holds every bfloat16 value exactly (a bfloat16 is
the top half of a float32). Torch tensors are always ``torch.bfloat16``. Quantized types come back
as their storage integers (qint8 as int8, ...), as in TF's numpy conversion.
"""

from __future__ import annotations

import functools
from typing import Dict, NamedTuple, Optional

import numpy as np

__all__ = ["DType", "DTYPES", "STRING", "BFLOAT16", "UNSUPPORTED", "bfloat16_dtype",
           "numpy_dtype", "dtype_name"]


class DType(NamedTuple):
    """One TensorFlow dtype: its TF name and the little-endian numpy dtype of its bytes."""

    code: int
    name: str
    storage: Optional[np.dtype]  # None for DT_STRING, whose layout is not fixed-width


STRING = 7
BFLOAT16 = 14

DTYPES: Dict[int, DType] = {
    code: DType(code, name, None if storage is None else np.dtype(storage))
    for code, name, storage in (
        (1, "float32", "<f4"), (2, "float64", "<f8"), (3, "int32", "<i4"), (4, "uint8", "u1"),
        (5, "int16", "<i2"), (6, "int8", "i1"), (STRING, "string", None),
        (8, "complex64", "<c8"), (9, "int64", "<i8"), (10, "bool", "?"), (11, "qint8", "i1"),
        (12, "quint8", "u1"), (13, "qint32", "<i4"), (BFLOAT16, "bfloat16", "<u2"),
        (15, "qint16", "<i2"), (16, "quint16", "<u2"), (17, "uint16", "<u2"),
        (18, "complex128", "<c16"), (19, "float16", "<f2"), (22, "uint32", "<u4"),
        (23, "uint64", "<u8"),
    )
}

# Codes TensorFlow defines that have no numpy layout here (types.proto), for clear refusals.
UNSUPPORTED: Dict[int, str] = {
    0: "invalid", 20: "resource", 21: "variant", 24: "float8_e5m2", 25: "float8_e4m3fn",
    26: "float8_e4m3fnuz", 27: "float8_e4m3b11fnuz", 28: "float8_e5m2fnuz", 29: "int4",
    30: "uint4", 31: "int2", 32: "uint2", 33: "float4_e2m1fn",
}


@functools.lru_cache(maxsize=1)
def _ml_dtypes_bfloat16() -> Optional[np.dtype]:
    try:
        import ml_dtypes  # type: ignore[import-not-found]
    except ImportError:
        return None
    return np.dtype(ml_dtypes.bfloat16)


def bfloat16_dtype() -> Optional[np.dtype]:
    """numpy's bfloat16 dtype from ``ml_dtypes``, or ``None`` when it is not installed.

    >>> bfloat16_dtype() is None or bfloat16_dtype().name == "bfloat16"
    True
    """
    return _ml_dtypes_bfloat16()


def numpy_dtype(code: int) -> np.dtype:
    """The numpy dtype that reading a tensor of TF dtype ``code`` returns.

    >>> numpy_dtype(3)
    dtype('int32')
    >>> numpy_dtype(7)      # strings: an object array of bytes
    dtype('O')
    """
    if code == STRING:
        return np.dtype(object)
    if code == BFLOAT16:
        return bfloat16_dtype() or np.dtype(np.float32)
    storage = DTYPES[code].storage
    assert storage is not None
    return storage.newbyteorder("=")


def dtype_name(code: int) -> str:
    """TensorFlow's name for a dtype code, for messages and dtype-name maps.

    >>> dtype_name(14), dtype_name(21), dtype_name(99)
    ('bfloat16', 'variant', 'unknown dtype code 99')
    """
    if code in DTYPES:
        return DTYPES[code].name
    return UNSUPPORTED.get(code, f"unknown dtype code {code}")
