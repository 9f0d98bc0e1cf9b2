"""Challenge HDF5 data sets: read with validation, write in the challenge layout."""

import collections
import logging
import os

import h5py
import numpy as np

from . import INPUT_SHAPE
from .errors import InputError
from .outputs import atomic_path

Dataset = collections.namedtuple("Dataset", ["x", "y"])  # x: (N,55,47,3) float32 0..255, y: int64

CHANNELS_FIRST = (3,) + INPUT_SHAPE[:2]


def to_channels_last(data, path):
    if data.ndim == 4 and tuple(data.shape[1:]) == CHANNELS_FIRST:
        return data.transpose((0, 2, 3, 1))
    if data.ndim == 4 and tuple(data.shape[1:]) == INPUT_SHAPE:
        return data
    raise InputError(
        path, "'data' has shape {}, expected (N, 3, 55, 47) or (N, 55, 47, 3)".format(tuple(data.shape))
    )


def check_pixels(x, path):
    if not np.all(np.isfinite(x)):
        raise InputError(path, "'data' contains NaN or infinite pixel values")
    if x.size and (x.min() < 0 or x.max() > 255):
        raise InputError(
            path,
            "pixel values span [{:g}, {:g}], expected raw pixels in [0, 255]".format(
                float(x.min()), float(x.max())
            ),
        )
    if x.size and x.max() <= 1.0:
        logging.warning("%s: all pixels are <= 1; the data look pre-scaled, expected raw 0..255", path)


def check_labels(label, n, path, n_classes=None):
    if label.ndim != 1 or label.shape[0] != n:
        raise InputError(path, "'label' has shape {}, expected ({},)".format(tuple(label.shape), n))
    if not np.all(np.isfinite(label)) or np.any(label != np.round(label)):
        raise InputError(path, "'label' holds non-integer values")
    y = label.astype(np.int64)
    if y.size and (y.min() < 0 or (n_classes is not None and y.max() >= n_classes)):
        raise InputError(
            path,
            "labels span [{}, {}], outside [0, {}]".format(
                y.min(), y.max(), "N-1" if n_classes is None else n_classes - 1
            ),
        )
    return y


def load_dataset(path, n_classes=None):
    """Read `data` and `label` from a challenge HDF5 file and validate them."""
    if not os.path.exists(str(path)):
        raise InputError(path, "no such file")
    try:
        with h5py.File(str(path), "r") as handle:
            for key in ("data", "label"):
                if key not in handle:
                    raise InputError(
                        path,
                        "no '{}' dataset (found: {})".format(
                            key, ", ".join(sorted(handle.keys())) or "nothing"
                        ),
                    )
            data = np.asarray(handle["data"])
            label = np.asarray(handle["label"])
    except OSError:
        raise InputError(path, "not a readable HDF5 file (truncated or corrupt?)") from None
    if not np.issubdtype(data.dtype, np.number) or not np.issubdtype(label.dtype, np.number):
        raise InputError(path, "'data' and 'label' must be numeric")
    x = to_channels_last(data, path).astype(np.float32)
    check_pixels(x, path)
    y = check_labels(label, x.shape[0], path, n_classes)
    if x.shape[0] == 0:
        raise InputError(path, "the data set is empty")
    return Dataset(np.ascontiguousarray(x), y)


def save_dataset(path, x, y):
    """Write x (N,55,47,3, 0..255) and y in the challenge layout: data (N,3,55,47) float32."""
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as handle:
            handle.create_dataset(
                "data",
                data=np.asarray(x, np.float32).transpose((0, 3, 1, 2)),
                compression="gzip",
                compression_opts=4,
            )
            handle.create_dataset("label", data=np.asarray(y, np.float32))
