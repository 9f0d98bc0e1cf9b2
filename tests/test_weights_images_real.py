"""Weight files and images on the REAL challenge nets: round trips, Keras-2 layout, full-model files."""

import json

import h5py
import numpy as np
import pytest
from PIL import Image

from bdeval import NUM_CLASSES_CHALLENGE as N_CLASSES
from bdeval import deepid, inference
from bdeval.images import load_image, save_image
from bdeval.tfcompat import keras
from bdeval.weights import load_model, read_weight_arrays, save_weights
from real_models import MODELS

# ---------------------------------------------------------------- weight files


def test_loaded_weights_equal_the_file(csaw, model):
    arrays = read_weight_arrays(csaw / MODELS["sunglasses"][0])
    assert sorted(arrays) == sorted(deepid.WEIGHTED_LAYERS)
    net = model("sunglasses")
    for layer in deepid.WEIGHTED_LAYERS:
        got = net.get_layer(layer).get_weights()
        assert len(got) == 2
        for a, b in zip(got, arrays[layer]):
            assert np.array_equal(a, b), layer


def test_keras_load_weights_of_real_file_agrees(csaw, model, data):
    """The stack's own keras reading the original file gives the same outputs as bdeval."""
    ds = data("data/clean_test_subset.h5")
    net = deepid.build_deepid(N_CLASSES)
    net.load_weights(str(csaw / MODELS["anonymous_1"][0]))
    ours = inference.predict_proba(model("anonymous_1"), ds.x, "x/255")
    theirs = inference.predict_proba(net, ds.x, "x/255")
    assert np.array_equal(ours, theirs)


@pytest.fixture(scope="module")
def saved_weights(model, tmp_path_factory):
    """The lab3 net written by save_weights."""
    path = tmp_path_factory.mktemp("saved") / "lab3_copy.h5"
    save_weights(model("lab3"), path)
    return path


def test_save_weights_then_load_model_round_trip(model, data, saved_weights):
    assert not [p for p in saved_weights.parent.iterdir() if p.name.startswith(".tmp-")]
    original = model("lab3")
    again = load_model(saved_weights, N_CLASSES)
    assert again is not original
    for layer in deepid.WEIGHTED_LAYERS:
        for a, b in zip(again.get_layer(layer).get_weights(), original.get_layer(layer).get_weights()):
            assert np.array_equal(a, b), layer
    for rel in ("data/lab3/cl_test_subset.h5", "data/lab3/bd_test_subset.h5"):
        ds = data(rel)
        assert np.array_equal(
            inference.predict_proba(again, ds.x, "raw"), inference.predict_proba(original, ds.x, "raw")
        )


def h5_datasets(path):
    found = {}
    with h5py.File(str(path), "r") as handle:
        handle.visititems(
            lambda name, obj: (
                found.__setitem__(name, (obj.shape, obj.dtype)) if isinstance(obj, h5py.Dataset) else None
            )
        )
        weight_names = {
            name: [
                n.decode("utf8") if isinstance(n, bytes) else n for n in handle[name].attrs["weight_names"]
            ]
            for name in handle
        }
    return found, weight_names


def test_saved_file_has_the_keras_2_layout_of_the_challenge_files(csaw, saved_weights):
    """Same groups, dataset names, shapes, dtypes and weight_names as the real lab3 file."""
    assert h5_datasets(saved_weights) == h5_datasets(csaw / MODELS["lab3"][0])
    with h5py.File(str(saved_weights), "r") as handle:
        assert handle["conv_1/conv_1/kernel:0"].shape == (4, 4, 3, 20)


def test_saved_file_is_readable_by_keras_load_weights(model, data, saved_weights):
    """The challenge's own tools (keras model.load_weights) can read what we write."""
    with h5py.File(str(saved_weights), "r") as handle:
        names = [n.decode("utf8") if isinstance(n, bytes) else n for n in handle.attrs["layer_names"]]
        assert names == deepid.LAYER_NAMES
    net = deepid.build_deepid(N_CLASSES)
    net.load_weights(str(saved_weights))
    original = model("lab3")
    for layer in deepid.WEIGHTED_LAYERS:
        for a, b in zip(net.get_layer(layer).get_weights(), original.get_layer(layer).get_weights()):
            assert np.array_equal(a, b), layer
    ds = data("data/lab3/bd_test_subset.h5")
    assert np.array_equal(
        inference.predict_labels(net, ds.x, "raw"), inference.predict_labels(original, ds.x, "raw")
    )


def test_full_model_file_loads_weights_and_ignores_model_config(csaw, model, data, tmp_path):
    src_path = csaw / MODELS["sunglasses"][0]
    path = tmp_path / "full_model.h5"
    bogus = '{"class_name": "Lambda", "evil": true}'
    with h5py.File(str(src_path), "r") as src, h5py.File(str(path), "w") as dst:
        group = dst.create_group("model_weights")
        for key, value in src.attrs.items():
            group.attrs[key] = value
        for name in src:
            src.copy(src[name], group, name=name)
        dst.attrs["model_config"] = bogus.encode("utf8")
        dst.attrs["training_config"] = json.dumps({"loss": "evil"}).encode("utf8")
    with h5py.File(str(path), "r") as handle:  # the file is what we meant to build
        assert "layer_names" not in handle.attrs and "conv_1" not in handle
        assert "model_config" in handle.attrs
    plain = read_weight_arrays(src_path)
    full = read_weight_arrays(path)
    assert sorted(full) == sorted(plain)
    for layer in plain:
        for a, b in zip(full[layer], plain[layer]):
            assert np.array_equal(a, b), layer
    net = load_model(path, N_CLASSES)
    ds = data("data/sunglasses_poisoned_subset.h5")
    assert np.array_equal(
        inference.predict_proba(net, ds.x, "x/255"),
        inference.predict_proba(model("sunglasses"), ds.x, "x/255"),
    )


def test_build_deepid_matches_challenge_architecture():
    net = deepid.build_deepid(N_CLASSES)
    assert tuple(net.input_shape) == (None, 55, 47, 3)
    assert tuple(net.output_shape) == (None, N_CLASSES)
    assert net.count_params() == sum(
        int(np.prod(s)) for shapes in deepid.expected_shapes(N_CLASSES).values() for s in shapes
    )
    for layer, shapes in deepid.expected_shapes(N_CLASSES).items():
        assert [tuple(w.shape) for w in net.get_layer(layer).get_weights()] == shapes
    assert tuple(net.get_layer("pool_3").output_shape) == (None, 5, 4, 60)


# ---------------------------------------------------------------- images


def test_png_round_trip_of_real_face(data, tmp_path):
    ds = data("data/clean_test_subset.h5")
    for i in (0, 17, 59):
        face = ds.x[i]
        assert np.array_equal(face, np.round(face))  # the challenge pixels are whole numbers
        path = tmp_path / "face_{}.png".format(i)
        save_image(path, face)
        with Image.open(str(path)) as img:
            assert img.format == "PNG" and img.size == (47, 55) and img.mode == "RGB"
            assert np.array_equal(np.asarray(img), face.astype(np.uint8))
        loaded = load_image(path)
        assert loaded.dtype == np.float32 and loaded.shape == (55, 47, 3)
        assert np.array_equal(loaded, face)


def test_loaded_png_faces_classify_like_the_h5(model, data, tmp_path):
    ds = data("data/lab3/bd_test_subset.h5")
    paths = []
    for i, face in enumerate(ds.x):
        paths.append(tmp_path / "{:02d}.png".format(i))
        save_image(paths[-1], face)
    x = np.stack([load_image(p) for p in paths])
    net = model("lab3")
    assert np.array_equal(inference.predict_labels(net, x, "raw"), inference.predict_labels(net, ds.x, "raw"))


def test_rgba_trigger_png_is_read_as_rgb(csaw):
    """A 55x47 RGBA PNG (the fitted 2020 trigger) is accepted and converted to 3 channels."""
    path = csaw / "triggers" / "sunglasses_2020_fitted_rgba.png"
    with Image.open(str(path)) as img:
        assert img.mode == "RGBA" and img.size == (47, 55)
        rgb = np.asarray(img.convert("RGB"), np.float32)
    loaded = load_image(path)
    assert loaded.shape == (55, 47, 3)
    assert np.array_equal(loaded, rgb)


def test_keras_stack_is_keras_2():
    assert keras.__version__.startswith("2.")
