"""Bad data files: each raises InputError with ONE line naming the file and the problem."""

import logging
import os

import numpy as np
import pytest

from bdeval import NUM_CLASSES_CHALLENGE as N_CLASSES
from bdeval.datasets import load_dataset
from bdeval.images import load_image
from bdeval.weights import load_model, read_weight_arrays

from bad_input_helpers import DATA, WEIGHTS, faces, input_error, write_h5  # noqa: F401

# ---------------------------------------------------------------- a valid synthetic file loads


def test_valid_synthetic_dataset_loads(tmp_path):
    """Control case: the bad-data tests below differ from this file in one thing only."""
    path = write_h5(tmp_path / "ok.h5", data=faces(), label=np.array([0, 5, 9, 1282], np.float32))
    ds = load_dataset(path, N_CLASSES)
    assert ds.x.shape == (4, 55, 47, 3)
    assert ds.y.tolist() == [0, 5, 9, 1282]
    assert ds.y.dtype == np.int64


# ---------------------------------------------------------------- missing and unreadable files


def test_missing_weights_file(tmp_path):
    path = tmp_path / "nope_bd_weights.h5"
    with input_error(path, "no such file"):
        load_model(path, N_CLASSES)
    with input_error(path, "no such file"):
        read_weight_arrays(path)


def test_missing_data_file(tmp_path):
    path = tmp_path / "missing" / "clean_test_data.h5"
    with input_error(path, "no such file"):
        load_dataset(path)


def test_missing_image_file(tmp_path):
    path = tmp_path / "face.png"
    with input_error(path, "no such file"):
        load_image(path)


@pytest.mark.parametrize("kind", ["weights", "data"])
def test_truncated_hdf5(csaw, writable_copy, kind):
    path = writable_copy(csaw / (WEIGHTS if kind == "weights" else DATA), "truncated.h5")
    size = os.path.getsize(str(path))
    with open(str(path), "r+b") as handle:
        handle.truncate(size // 2)
    assert os.path.getsize(str(path)) == size // 2
    with input_error(path, "HDF5", "truncated"):
        if kind == "weights":
            load_model(path, N_CLASSES)
        else:
            load_dataset(path, N_CLASSES)


@pytest.mark.parametrize("kind", ["weights", "data"])
def test_text_file_is_not_hdf5(tmp_path, kind):
    path = tmp_path / "notes.h5"
    path.write_text("this is not HDF5\n")
    with input_error(path, "not a readable HDF5"):
        if kind == "weights":
            load_model(path, N_CLASSES)
        else:
            load_dataset(path)


# ---------------------------------------------------------------- data sets


def test_hdf5_without_data(tmp_path):
    path = write_h5(tmp_path / "no_data.h5", label=np.zeros(4, np.float32), images=faces())
    with input_error(path, "no 'data' dataset", "images, label"):
        load_dataset(path)


def test_hdf5_without_label(tmp_path):
    path = write_h5(tmp_path / "no_label.h5", data=faces())
    with input_error(path, "no 'label' dataset", "data"):
        load_dataset(path)


def test_empty_hdf5(tmp_path):
    path = write_h5(tmp_path / "empty.h5")
    with input_error(path, "no 'data' dataset", "nothing"):
        load_dataset(path)


def test_weights_file_given_as_data(csaw):
    path = csaw / WEIGHTS
    with input_error(path, "no 'data' dataset", "conv_1"):
        load_dataset(path)


@pytest.mark.parametrize("shape", [(4, 3, 32, 32), (4, 55, 47), (4, 47, 55, 3), (4, 1, 55, 47)])
def test_wrong_image_shape_in_hdf5(tmp_path, shape):
    path = write_h5(
        tmp_path / "cifar.h5", data=np.full(shape, 100, np.float32), label=np.zeros(4, np.float32)
    )
    with input_error(path, "'data' has shape {}".format(shape), "expected (N, 3, 55, 47)"):
        load_dataset(path)


@pytest.mark.parametrize(
    "labels,span",
    [
        ([0, 5, 9, 1282], "[0, 1282]"),
        ([3, -1, 2, 0], "[-1, 3]"),
    ],
)
def test_labels_out_of_range(tmp_path, labels, span):
    path = write_h5(tmp_path / "labels.h5", data=faces(), label=np.array(labels, np.float32))
    with input_error(path, "labels span " + span, "outside [0, 9]"):
        load_dataset(path, n_classes=10)


def test_label_range_boundary(tmp_path):
    """n_classes=10 allows 9 and rejects 10 (off-by-one guard)."""
    ok = write_h5(tmp_path / "ok.h5", data=faces(), label=np.array([0, 9, 9, 1], np.float32))
    assert load_dataset(ok, n_classes=10).y.max() == 9
    bad = write_h5(tmp_path / "bad.h5", data=faces(), label=np.array([0, 9, 10, 1], np.float32))
    with input_error(bad, "labels span [0, 10]", "outside [0, 9]"):
        load_dataset(bad, n_classes=10)


def test_negative_labels_without_n_classes(tmp_path):
    path = write_h5(tmp_path / "labels.h5", data=faces(), label=np.array([0, 1, -3, 2], np.int64))
    with input_error(path, "labels span [-3, 2]", "outside"):
        load_dataset(path)


def test_real_clean_labels_out_of_range_for_a_10_class_net(csaw):
    path = csaw / DATA
    with input_error(path, "labels span", "outside [0, 9]"):
        load_dataset(path, n_classes=10)


@pytest.mark.parametrize("label", [[0.0, 1.5, 2.0, 3.0], [0.0, np.nan, 2.0, 3.0], [0, np.inf, 1, 2]])
def test_non_integer_labels(tmp_path, label):
    path = write_h5(tmp_path / "float_labels.h5", data=faces(), label=np.array(label, np.float64))
    with input_error(path, "non-integer"):
        load_dataset(path)


def test_label_count_differs_from_image_count(tmp_path):
    path = write_h5(tmp_path / "short.h5", data=faces(4), label=np.zeros(3, np.float32))
    with input_error(path, "'label' has shape (3,)", "expected (4,)"):
        load_dataset(path)


def test_non_numeric_labels(tmp_path):
    path = write_h5(tmp_path / "names.h5", data=faces(2), label=np.array([b"alice", b"bob"]))
    with input_error(path, "numeric"):
        load_dataset(path)


def test_empty_dataset(tmp_path):
    path = write_h5(
        tmp_path / "none.h5", data=np.zeros((0, 3, 55, 47), np.float32), label=np.zeros(0, np.float32)
    )
    with input_error(path, "empty"):
        load_dataset(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_pixels(tmp_path, bad):
    x = faces()
    x[2, 1, 30, 20] = bad
    path = write_h5(tmp_path / "nan.h5", data=x, label=np.zeros(4, np.float32))
    with input_error(path, "NaN or infinite"):
        load_dataset(path)


@pytest.mark.parametrize("bad,span", [(256.0, "[0, 256]"), (1000.5, "[0, 1000.5]"), (-1.0, "[-1, 200]")])
def test_pixel_values_out_of_range(tmp_path, bad, span):
    x = faces()
    x[0, 0, 0, 0] = 0.0
    x[3, 2, 54, 46] = bad
    path = write_h5(tmp_path / "bright.h5", data=x, label=np.zeros(4, np.float32))
    with input_error(path, "pixel values span " + span, "[0, 255]"):
        load_dataset(path)


def test_pre_scaled_pixels_load_with_a_warning(tmp_path, caplog):
    """x/255 data are legal values but almost surely a mistake: warn, do not fail."""
    path = write_h5(tmp_path / "scaled.h5", data=faces() / 255.0, label=np.zeros(4, np.float32))
    with caplog.at_level(logging.WARNING):
        ds = load_dataset(path)
    assert ds.x.max() <= 1.0
    assert any("pre-scaled" in r.getMessage() and str(path) in r.getMessage() for r in caplog.records)
