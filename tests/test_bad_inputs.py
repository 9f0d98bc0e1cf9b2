"""Bad user inputs: every one must raise InputError with ONE line naming the file and the problem.

Also the CLI contract of errors.run_cli and the all-or-nothing outputs.atomic_path.
Synthetic files are built in tmp_path; cases that start from a real file copy it from
../shared/csaw first (the shared files are never modified).
"""
import contextlib
import logging
import os

import h5py
import numpy as np
import pytest
from PIL import Image

from bdeval import NUM_CLASSES_CHALLENGE as N_CLASSES
from bdeval.datasets import load_dataset
from bdeval.errors import InputError, run_cli
from bdeval.images import list_images, load_image
from bdeval.outputs import atomic_path
from bdeval.weights import check_weight_arrays, load_model, read_weight_arrays

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
    path = write_h5(tmp_path / "cifar.h5", data=np.full(shape, 100, np.float32),
                    label=np.zeros(4, np.float32))
    with input_error(path, "'data' has shape {}".format(shape), "expected (N, 3, 55, 47)"):
        load_dataset(path)


@pytest.mark.parametrize("labels,span", [
    ([0, 5, 9, 1282], "[0, 1282]"),
    ([3, -1, 2, 0], "[-1, 3]"),
])
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
    path = write_h5(tmp_path / "none.h5", data=np.zeros((0, 3, 55, 47), np.float32),
                    label=np.zeros(0, np.float32))
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
    edit_weights(weights_copy, lambda handle: replace(
        handle, "conv_2/conv_2/kernel:0", np.zeros((5, 5, 20, 40), np.float32)))
    with input_error(weights_copy, "layer 'conv_2' has weight shapes", "(5, 5, 20, 40)",
                     "expected [(3, 3, 20, 40), (40,)]"):
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


# ---------------------------------------------------------------- images

def save_rgb(path, width, height, fmt):
    Image.new("RGB", (width, height), (120, 60, 30)).save(str(path), format=fmt)
    return path


def test_right_size_png_and_jpeg_load(tmp_path):
    """Control case: 47 wide x 55 high is accepted in both formats."""
    png = load_image(save_rgb(tmp_path / "ok.png", 47, 55, "PNG"))
    jpg = load_image(save_rgb(tmp_path / "ok.jpg", 47, 55, "JPEG"))
    assert png.shape == jpg.shape == (55, 47, 3)
    assert png[0, 0].tolist() == [120, 60, 30]


@pytest.mark.parametrize("name,fmt,size", [
    ("small.png", "PNG", (32, 32)),
    ("rotated.png", "PNG", (55, 47)),  # width and height swapped
    ("big.jpg", "JPEG", (94, 110)),
    ("big.jpeg", "JPEG", (47, 56)),
])
def test_image_with_wrong_size(tmp_path, name, fmt, size):
    path = save_rgb(tmp_path / name, size[0], size[1], fmt)
    with input_error(path, "image is {}x{} pixels".format(*size), "expected 47x55"):
        load_image(path)


@pytest.mark.parametrize("name,content", [
    ("notes.png", b"hello, I am a text file\n"),
    ("empty.jpg", b""),
    ("half.png", None),  # a real PNG cut in half
])
def test_file_that_is_not_an_image(tmp_path, name, content):
    path = tmp_path / name
    if content is None:
        save_rgb(tmp_path / "whole.png", 47, 55, "PNG")
        whole = (tmp_path / "whole.png").read_bytes()
        content = whole[:len(whole) // 2]
    path.write_bytes(content)
    with input_error(path, "not a readable PNG/JPEG image"):
        load_image(path)


def test_list_images_of_a_folder(tmp_path):
    folder = tmp_path / "faces"
    folder.mkdir()
    for name in ("b.png", "a.JPG", "c.jpeg", "d.PNG"):
        save_rgb(folder / name, 47, 55, "PNG" if name.lower().endswith("png") else "JPEG")
    (folder / "notes.txt").write_text("not an image")
    (folder / "labels.h5").write_bytes(b"")
    (folder / "zz.png").write_text("a text file named .png")
    single = save_rgb(tmp_path / "single.png", 47, 55, "PNG")
    missing = tmp_path / "gone.png"

    found = list_images([folder, single, missing])
    names = [os.path.basename(p) for p in found]
    assert names == ["a.JPG", "b.png", "c.jpeg", "d.PNG", "zz.png", "single.png", "gone.png"]
    assert found[0] == os.path.join(str(folder), "a.JPG")
    assert found[-2:] == [str(single), str(missing)]  # files are kept as given, even missing ones

    for path in found[:4] + [found[5]]:
        assert load_image(path).shape == (55, 47, 3)
    with input_error(found[4], "not a readable PNG/JPEG image"):
        load_image(found[4])
    with input_error(missing, "no such file"):
        load_image(found[6])
    assert list_images([tmp_path / "empty_dir_does_not_exist"]) == [str(tmp_path / "empty_dir_does_not_exist")]
    (tmp_path / "empty").mkdir()
    assert list_images([tmp_path / "empty"]) == []


# ---------------------------------------------------------------- CLI contract

def test_run_cli_turns_input_error_into_exit_2_and_one_line(capsys):
    def main(argv):
        print("working on", argv)
        raise InputError("/data/clean_test_data.h5", "no 'label' dataset (found: data)")

    with pytest.raises(SystemExit) as info:
        run_cli(main, ["--foo"])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.err == "error: /data/clean_test_data.h5: no 'label' dataset (found: data)\n"
    assert len(captured.err.splitlines()) == 1 and captured.err.startswith("error: ")
    assert "Traceback" not in captured.err
    assert captured.out == "working on ['--foo']\n"


def test_run_cli_with_a_real_loader_error(tmp_path, capsys):
    path = tmp_path / "missing.h5"

    def main(argv):
        load_dataset(path)
        return 0

    with pytest.raises(SystemExit) as info:
        run_cli(main, [])
    assert info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["error: {}: no such file".format(path)]


@pytest.mark.parametrize("returned,code", [(None, 0), (0, 0), (3, 3)])
def test_run_cli_passes_the_exit_status_through(capsys, returned, code):
    with pytest.raises(SystemExit) as info:
        run_cli(lambda argv: returned, [])
    assert info.value.code == code
    assert capsys.readouterr().err == ""


def test_run_cli_does_not_hide_programming_errors():
    def main(argv):
        raise ZeroDivisionError("a bug, not a user error")

    with pytest.raises(ZeroDivisionError):
        run_cli(main, [])


# ---------------------------------------------------------------- atomic outputs

def test_atomic_path_leaves_no_file_when_the_body_raises(tmp_path):
    target = tmp_path / "out" / "result.json"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            with open(tmp, "w") as handle:
                handle.write('{"half": ')
            assert os.path.exists(tmp) and os.path.dirname(tmp) == str(target.parent)
            raise RuntimeError("killed half-way")
    assert not target.exists()
    assert os.listdir(str(target.parent)) == []  # no temporary file left behind either


def test_atomic_path_keeps_the_old_file_when_the_body_raises(tmp_path):
    target = tmp_path / "result.h5"
    target.write_text("old complete result")
    with pytest.raises(InputError):
        with atomic_path(target) as tmp:
            with open(tmp, "w") as handle:
                handle.write("partial")
            raise InputError(target, "bad input discovered late")
    assert target.read_text() == "old complete result"
    assert sorted(os.listdir(str(tmp_path))) == ["result.h5"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_atomic_path_output_respects_umask(tmp_path):
    """The temporary file is private (0600); the finished output must not stay so."""
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "shared.json") as tmp:
            with open(tmp, "w") as handle:
                handle.write("{}")
    finally:
        os.umask(old)
    assert oct(os.stat(str(tmp_path / "shared.json")).st_mode & 0o777) == oct(0o644)


def test_atomic_path_writes_on_success(tmp_path):
    target = tmp_path / "new" / "result.txt"
    with atomic_path(target) as tmp:
        assert tmp != str(target) and tmp.endswith(".txt")
        with open(tmp, "w") as handle:
            handle.write("done")
    assert target.read_text() == "done"
    assert os.listdir(str(target.parent)) == ["result.txt"]
