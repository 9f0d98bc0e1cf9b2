"""Weight files of another architecture or broken: one-line InputError naming the file."""

import h5py
import numpy as np
import pytest

from bdeval import NUM_CLASSES_CHALLENGE as N_CLASSES
from bdeval.weights import check_weight_arrays, load_model, read_weight_arrays

from bad_input_helpers import DATA, WEIGHTS, faces, input_error, write_h5  # noqa: F401

# ---------------------------------------------------------------- weight files of another architecture


def edit_weights(path, edit):
    with h5py.File(str(path), "r+") as handle:
        edit(handle)
    return path


def set_layer_names(handle, names):
    handle.attrs["layer_names"] = np.array([n.encode("utf8") for n in names])


def layer_names(handle):
    return [n.decode("utf8") if isinstance(n, bytes) else n for n in handle.attrs["layer_names"]]


def replace(handle, name, value):
    del handle[name]
    handle.create_dataset(name, data=value)


@pytest.fixture
def weights_copy(csaw, writable_copy):
    return writable_copy(csaw / WEIGHTS, "other_bd_weights.h5")


def test_unmodified_copy_loads(weights_copy):
    """Control case for the edits below."""
    arrays = read_weight_arrays(weights_copy)
    check_weight_arrays(weights_copy, arrays, N_CLASSES)


def test_missing_layer(weights_copy):
    def edit(handle):
        del handle["conv_3"]
        set_layer_names(handle, [n for n in layer_names(handle) if n != "conv_3"])

    edit_weights(weights_copy, edit)
    with input_error(weights_copy, "missing layer 'conv_3'", "not a DeepID"):
        load_model(weights_copy, N_CLASSES)


def test_listed_layer_without_group(weights_copy):
    edit_weights(weights_copy, lambda handle: handle.__delitem__("conv_3"))
    with input_error(weights_copy, "layer 'conv_3'", "no group"):
        load_model(weights_copy, N_CLASSES)


def test_listed_weight_without_dataset(weights_copy):
    edit_weights(weights_copy, lambda handle: handle.__delitem__("fc_2/fc_2/bias:0"))
    with input_error(weights_copy, "unreadable weights"):
        load_model(weights_copy, N_CLASSES)


def test_output_layer_with_10_classes(weights_copy):
    def edit(handle):
        replace(handle, "output/output/kernel:0", np.zeros((160, 10), np.float32))
        replace(handle, "output/output/bias:0", np.zeros((10,), np.float32))

    edit_weights(weights_copy, edit)
    with input_error(weights_copy, "output layer has 10 classes", "config says 1283"):
        load_model(weights_copy, N_CLASSES)
    # and the same file is a fine 10-class DeepID
    assert load_model(weights_copy, 10).output_shape[-1] == 10


def test_conv_kernel_with_wrong_shape(weights_copy):
    edit_weights(
        weights_copy,
        lambda handle: replace(handle, "conv_2/conv_2/kernel:0", np.zeros((5, 5, 20, 40), np.float32)),
    )
    with input_error(
        weights_copy, "layer 'conv_2' has weight shapes", "(5, 5, 20, 40)", "expected [(3, 3, 20, 40), (40,)]"
    ):
        load_model(weights_copy, N_CLASSES)


def test_non_finite_weights(weights_copy):
    def edit(handle):
        bias = np.asarray(handle["fc_1/fc_1/bias:0"])
        bias[7] = np.nan
        replace(handle, "fc_1/fc_1/bias:0", bias)

    edit_weights(weights_copy, edit)
    with input_error(weights_copy, "layer 'fc_1'", "non-finite"):
        load_model(weights_copy, N_CLASSES)


def test_data_file_given_as_weights(csaw):
    path = csaw / DATA
    with input_error(path, "not a Keras weights file", "layer_names"):
        load_model(path, N_CLASSES)
