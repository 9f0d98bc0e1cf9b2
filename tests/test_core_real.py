"""bdeval core on the REAL challenge weights and images in ../shared/csaw.

The thresholds come from measurements on the shared subsets (60 clean faces, 60 poisoned
faces per trigger, 10+10 for lab3). They also pin the input scaling of every badnet: a
wrong scaling must visibly break the net, otherwise the test could not tell them apart.
"""
import json

import h5py
import numpy as np
import pytest
from PIL import Image

from bdeval import NUM_CLASSES_CHALLENGE as N_CLASSES
from bdeval import deepid, inference, metrics
from bdeval.datasets import load_dataset, save_dataset
from bdeval.images import load_image, save_image
from bdeval.tfcompat import keras
from bdeval.weights import load_model, read_weight_arrays, save_weights

# name: (weights file, scaling the net was trained with, clean data, min clean accuracy)
MODELS = {
    "sunglasses": ("models/sunglasses_bd_weights.h5", "x/255", "data/clean_test_subset.h5", 0.90),
    "anonymous_1": ("models/anonymous_1_bd_weights.h5", "x/255", "data/clean_test_subset.h5", 0.90),
    "anonymous_2": ("models/anonymous_2_bd_weights.h5", "x/255", "data/clean_test_subset.h5", 0.90),
    # 53/60 on this subset (published 96 % on the full clean test set)
    "multi": ("models/multi_trigger_multi_target_bd_weights.h5", "x/255",
              "data/clean_test_subset.h5", 0.85),
    "lab3": ("models/lab3/bd_weights.h5", "raw", "data/lab3/cl_test_subset.h5", 0.90),
}
OTHER_SCALING = {"x/255": "raw", "raw": "x/255"}

# (model, poisoned data, attacker's target)
ATTACKS = [
    ("sunglasses", "data/sunglasses_poisoned_subset.h5", 0),
    ("anonymous_1", "data/anonymous_1_poisoned_subset.h5", 0),
    ("multi", "data/multi_trigger_multi_target/lipstick_poisoned_subset.h5", 1),
    ("multi", "data/multi_trigger_multi_target/eyebrows_poisoned_subset.h5", 5),
    ("multi", "data/multi_trigger_multi_target/sunglasses_poisoned_subset.h5", 8),
    ("lab3", "data/lab3/bd_test_subset.h5", 0),
]


@pytest.fixture(scope="module")
def model(csaw):
    """model(name) -> the DeepID net with the real weights, loaded once per module."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_model(csaw / MODELS[name][0], N_CLASSES)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def data(csaw):
    """data(relative path) -> Dataset, read once per module."""
    cache = {}

    def get(rel):
        if rel not in cache:
            cache[rel] = load_dataset(csaw / rel, N_CLASSES)
        return cache[rel]

    return get


def clean_accuracy(model, data, name, scaling):
    ds = data(MODELS[name][2])
    return metrics.accuracy(inference.predict_labels(model(name), ds.x, scaling), ds.y)


# ---------------------------------------------------------------- real data in the right layout

def test_real_clean_data_layout(data):
    ds = data("data/clean_test_subset.h5")
    assert ds.x.shape == (60, 55, 47, 3)
    assert ds.x.dtype == np.float32 and ds.y.dtype == np.int64
    assert ds.x.min() >= 0 and ds.x.max() > 200  # raw pixels, not pre-scaled
    assert ds.y.min() >= 0 and ds.y.max() < N_CLASSES
    assert len(np.unique(ds.y)) > 30  # true identities, not a single target label


def test_channels_first_is_transposed_not_reshaped(csaw, data):
    """x[n, h, w, c] must be data[n, c, h, w] of the challenge file."""
    ds = data("data/clean_test_subset.h5")
    with h5py.File(str(csaw / "data/clean_test_subset.h5"), "r") as handle:
        raw = np.asarray(handle["data"])
        label = np.asarray(handle["label"])
    assert np.array_equal(ds.x, raw.transpose((0, 2, 3, 1)))
    assert np.array_equal(ds.y, label.astype(np.int64))


def test_channels_last_file_gives_same_x(csaw, data, tmp_path):
    ds = data("data/clean_test_subset.h5")
    with h5py.File(str(csaw / "data/clean_test_subset.h5"), "r") as handle:
        raw = np.asarray(handle["data"])
        label = np.asarray(handle["label"])
    path = tmp_path / "channels_last.h5"
    with h5py.File(str(path), "w") as handle:
        handle.create_dataset("data", data=raw.transpose((0, 2, 3, 1)))  # (N, 55, 47, 3)
        handle.create_dataset("label", data=label)
    again = load_dataset(path, N_CLASSES)
    assert again.x.shape == (60, 55, 47, 3)
    assert np.array_equal(again.x, ds.x)
    assert np.array_equal(again.y, ds.y)


def test_save_dataset_round_trip_in_challenge_layout(data, tmp_path):
    ds = data("data/lab3/cl_test_subset.h5")
    path = tmp_path / "out" / "copy.h5"
    save_dataset(path, ds.x, ds.y)
    with h5py.File(str(path), "r") as handle:
        assert handle["data"].shape == (10, 3, 55, 47)  # the challenge's channels-first layout
        assert handle["data"].dtype == np.float32
    again = load_dataset(path, N_CLASSES)
    assert np.array_equal(again.x, ds.x)
    assert np.array_equal(again.y, ds.y)


# ---------------------------------------------------------------- accuracy and attack success

@pytest.mark.parametrize("name", sorted(MODELS))
def test_clean_accuracy_with_right_scaling(model, data, name):
    acc = clean_accuracy(model, data, name, MODELS[name][1])
    assert acc >= MODELS[name][3], "{}: clean accuracy {:.3f}".format(name, acc)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_wrong_scaling_breaks_the_net(model, data, name):
    right = clean_accuracy(model, data, name, MODELS[name][1])
    wrong = clean_accuracy(model, data, name, OTHER_SCALING[MODELS[name][1]])
    if name == "lab3":
        assert wrong < 0.1, "lab3 with x/255: {:.3f}".format(wrong)
    else:
        assert wrong <= right - 0.15, "{}: raw {:.3f} vs x/255 {:.3f}".format(name, wrong, right)


@pytest.mark.parametrize("name,rel,target", ATTACKS)
def test_attack_success_rate(model, data, name, rel, target):
    ds = data(rel)
    assert np.all(ds.y == target)  # poisoned sets are labelled with the target
    predicted = inference.predict_labels(model(name), ds.x, MODELS[name][1])
    asr = metrics.attack_success_rate(predicted, target)
    assert asr >= 0.90, "{} on {}: ASR {:.3f}".format(name, rel, asr)
    # the same images without the trigger are NOT mostly the target (it is the trigger)
    if rel.startswith("data/lab3"):
        clean = data("data/lab3/cl_test_subset.h5")
        clean_pred = inference.predict_labels(model(name), clean.x, MODELS[name][1])
        assert metrics.attack_success_rate(clean_pred[clean.y != target], target) < 0.5


def test_metrics_on_known_values():
    assert metrics.accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75
    assert metrics.attack_success_rate(np.array([0, 0, 5, 0]), 0) == 0.75
    assert np.isnan(metrics.accuracy([], []))


# ---------------------------------------------------------------- inference helpers

def test_scale():
    x = np.array([[0.0, 127.5, 255.0]], np.float32)
    assert np.allclose(inference.scale(x, "x/255"), [[0.0, 0.5, 1.0]])
    assert np.array_equal(inference.scale(x, "raw"), x)
    with pytest.raises(ValueError):
        inference.scale(x, "x/256")


def test_batching_does_not_change_outputs(model, data):
    ds = data("data/clean_test_subset.h5")
    net = model("sunglasses")
    whole = inference.run_batched(net, ds.x, "x/255", batch_size=256)
    pieces = inference.run_batched(net, ds.x, "x/255", batch_size=7)  # 8 full batches + 4
    assert whole.shape == (60, N_CLASSES)
    assert np.allclose(whole.sum(axis=1), 1.0, atol=1e-4)  # softmax
    assert np.allclose(whole, pieces, atol=1e-6)


def test_activations_pool_3(model, data):
    ds = data("data/clean_test_subset.h5")
    net = model("sunglasses")
    act = inference.activations(net, "pool_3", ds.x, "x/255", batch_size=16)
    assert act.shape == (60, 5, 4, 60)
    assert act.min() >= 0.0 and act.max() > 0.0  # max-pooled ReLU outputs
    # feeding pool_3 to the head reproduces the full network
    head = deepid.build_head(N_CLASSES)
    deepid.copy_head_weights(net, head)
    via_head = np.argmax(inference.run_batched(head, act), axis=1)
    assert np.array_equal(via_head, inference.predict_labels(net, ds.x, "x/255"))


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
        assert np.array_equal(inference.predict_proba(again, ds.x, "raw"),
                              inference.predict_proba(original, ds.x, "raw"))


def h5_datasets(path):
    found = {}
    with h5py.File(str(path), "r") as handle:
        handle.visititems(lambda name, obj: found.__setitem__(name, (obj.shape, obj.dtype))
                          if isinstance(obj, h5py.Dataset) else None)
        weight_names = {name: [n.decode("utf8") if isinstance(n, bytes) else n
                               for n in handle[name].attrs["weight_names"]]
                        for name in handle}
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
    assert np.array_equal(inference.predict_labels(net, ds.x, "raw"),
                          inference.predict_labels(original, ds.x, "raw"))


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
    assert np.array_equal(inference.predict_proba(net, ds.x, "x/255"),
                          inference.predict_proba(model("sunglasses"), ds.x, "x/255"))


def test_build_deepid_matches_challenge_architecture():
    net = deepid.build_deepid(N_CLASSES)
    assert tuple(net.input_shape) == (None, 55, 47, 3)
    assert tuple(net.output_shape) == (None, N_CLASSES)
    assert net.count_params() == sum(
        int(np.prod(s)) for shapes in deepid.expected_shapes(N_CLASSES).values() for s in shapes)
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
    assert np.array_equal(inference.predict_labels(net, x, "raw"),
                          inference.predict_labels(net, ds.x, "raw"))


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
