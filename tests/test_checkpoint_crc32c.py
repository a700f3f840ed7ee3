"""CRC32C: the known answer, and every implementation path agreeing with the scalar loop."""

import numpy as np
import pytest

from torchscope.checkpoint import _crc32c

RNG = np.random.default_rng(0)
# Lengths around each path's thresholds: scalar tail, 128/1024/16384 lanes x 16 rows x 4 bytes.
LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 31, 255, 1000, 8191, 8192, 8193, 8192 * 2 + 3, 65535, 65536,
           65536 + 4 * 128 * 16 + 13, 1 << 20, (1 << 20) + 4 * 1024 * 17 + 4 * 128 * 16 + 3]


def test_known_answer_of_the_check_string():
    assert _crc32c.crc32c(b"123456789") == 0xE3069283
    assert _crc32c._crc32c_numpy(b"123456789") == 0xE3069283
    assert _crc32c._crc32c_scalar(b"123456789") == 0xE3069283


@pytest.mark.parametrize("length", LENGTHS)
def test_numpy_path_equals_scalar_path_at_every_length(length):
    data = RNG.integers(0, 256, length, dtype=np.uint8).tobytes()
    start = int(RNG.integers(0, 2**32))
    expected = _crc32c._crc32c_scalar(data, start)
    assert _crc32c._crc32c_numpy(data, start) == expected
    assert _crc32c.crc32c(data, start) == expected


def test_random_lengths_agree_and_chunked_crc_equals_whole():
    for _ in range(20):
        data = RNG.integers(0, 256, int(RNG.integers(0, 40000)), dtype=np.uint8).tobytes()
        whole = _crc32c._crc32c_numpy(data)
        assert whole == _crc32c._crc32c_scalar(data)
        cut = int(RNG.integers(0, len(data) + 1))
        assert _crc32c.crc32c(data[cut:], _crc32c.crc32c(data[:cut])) == whole


def test_numpy_arrays_and_memoryviews_are_hashed_as_their_bytes():
    array = np.arange(5000, dtype=np.float32).reshape(50, 100)
    expected = _crc32c._crc32c_scalar(array.tobytes())
    assert _crc32c.crc32c(array) == expected
    assert _crc32c.crc32c(memoryview(array.tobytes())) == expected
    assert _crc32c.crc32c(array[:, ::2]) == _crc32c._crc32c_scalar(array[:, ::2].tobytes())


def test_mask_round_trips_and_matches_leveldb():
    assert _crc32c.mask(0) == 0xA282EAD8
    for value in RNG.integers(0, 2**32, 100):
        assert _crc32c.unmask(_crc32c.mask(int(value))) == int(value)
