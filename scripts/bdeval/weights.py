"""Read and write Keras-2 HDF5 weights without deserializing anything from the file.

Accepts `*_bd_weights.h5` (weights at the root) and full-model `.h5` files (weights in
`model_weights`); a stored model config is never read. Saved files use the Keras 2.3 layout,
so the challenge's own tools can `load_weights` them.
"""

import os

import h5py
import numpy as np

from .deepid import LAYER_NAMES, WEIGHTED_LAYERS, build_deepid, expected_shapes
from .errors import InputError
from .outputs import atomic_path


def _decode(values):
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def _open(path):
    if not os.path.exists(str(path)):
        raise InputError(path, "no such file")
    try:
        return h5py.File(str(path), "r")
    except OSError:
        raise InputError(path, "not a readable HDF5 file (truncated or corrupt?)") from None


def read_weight_arrays(path):
    """{layer name: [arrays in weight_names order]} for every weighted layer in the file."""
    with _open(path) as handle:
        try:
            root = handle["model_weights"] if "model_weights" in handle else handle
            if "layer_names" not in root.attrs:
                raise InputError(path, "not a Keras weights file (no 'layer_names' attribute)")
            arrays = {}
            for name in _decode(root.attrs["layer_names"]):
                if name not in root:
                    raise InputError(path, "layer '{}' is listed but has no group".format(name))
                group = root[name]
                names = _decode(group.attrs.get("weight_names", []))
                if names:
                    arrays[name] = [np.asarray(group[w]) for w in names]
            return arrays
        except (OSError, KeyError, ValueError) as err:
            raise InputError(path, "unreadable weights ({})".format(err)) from None


def check_weight_arrays(path, arrays, n_classes):
    """Raise InputError unless `arrays` fit DeepID with n_classes outputs."""
    shapes = expected_shapes(n_classes)
    for layer, wanted in shapes.items():
        if layer not in arrays:
            raise InputError(path, "missing layer '{}': not a DeepID weights file".format(layer))
        got = [tuple(a.shape) for a in arrays[layer]]
        if layer == "output" and len(got) == 2 and got[0][:1] == (160,) and got[1] != wanted[1]:
            raise InputError(
                path,
                "output layer has {} classes, config says {}".format(got[1][0] if got[1] else "?", n_classes),
            )
        if got != wanted:
            raise InputError(path, "layer '{}' has weight shapes {}, expected {}".format(layer, got, wanted))
        if not all(np.all(np.isfinite(a)) for a in arrays[layer]):
            raise InputError(path, "layer '{}' has non-finite weights".format(layer))


def load_model(path, n_classes):
    """Build DeepID and load the weights of `path` into it (validated)."""
    arrays = read_weight_arrays(path)
    check_weight_arrays(path, arrays, n_classes)
    model = build_deepid(n_classes)
    for layer in WEIGHTED_LAYERS:
        model.get_layer(layer).set_weights(arrays[layer])
    return model


def save_weights(model, path):
    """Write the model's weights in the Keras 2.3 HDF5 layout, atomically."""
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as handle:
            handle.attrs["backend"] = b"tensorflow"
            handle.attrs["keras_version"] = b"2.3.1"
            handle.attrs["layer_names"] = np.array([n.encode("utf8") for n in LAYER_NAMES])
            for name in LAYER_NAMES:
                group = handle.create_group(name)
                if name not in WEIGHTED_LAYERS:
                    group.attrs["weight_names"] = np.array([], dtype=np.float64)
                    continue
                values = model.get_layer(name).get_weights()
                weight_names = ["{}/kernel:0".format(name), "{}/bias:0".format(name)]
                group.attrs["weight_names"] = np.array([w.encode("utf8") for w in weight_names])
                for wname, value in zip(weight_names, values):
                    group.create_dataset(wname, data=np.asarray(value, dtype=np.float32))
