"""Helpers shared by the bad-input tests: expect a one-line InputError, write small HDF5 files."""

import contextlib

import h5py
import numpy as np
import pytest

from bdeval.errors import InputError

WEIGHTS = "models/sunglasses_bd_weights.h5"
DATA = "data/clean_test_subset.h5"


@contextlib.contextmanager
def input_error(path, *words):
    """Expect InputError for `path`: one line 'PATH: PROBLEM' containing every word."""
    with pytest.raises(InputError) as info:
        yield info
    err = info.value
    message = str(err)
    assert "\n" not in message and "\r" not in message, message
    assert err.path == str(path)
    assert message.startswith(str(path) + ": "), message
    assert err.problem and message == "{}: {}".format(path, err.problem)
    for word in words:
        assert word in err.problem, "{!r} not in {!r}".format(word, message)


def write_h5(path, **datasets):
    with h5py.File(str(path), "w") as handle:
        for key, value in datasets.items():
            handle.create_dataset(key, data=value)
    return path


def faces(n=4, value=100.0):
    x = np.full((n, 3, 55, 47), value, np.float32)
    x[:, :, 10:20, 10:20] = 200.0
    return x
