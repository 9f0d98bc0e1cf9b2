"""bdeval core on the REAL challenge weights and images in ../shared/csaw.

The thresholds come from measurements on the shared subsets (60 clean faces, 60 poisoned
faces per trigger, 10+10 for lab3). They also pin the input scaling of every badnet: a
wrong scaling must visibly break the net, otherwise the test could not tell them apart.
"""

import h5py
import numpy as np
import pytest

from bdeval import NUM_CLASSES_CHALLENGE as N_CLASSES
from bdeval import deepid, inference, metrics
from bdeval.datasets import load_dataset, save_dataset
from real_models import ATTACKS, MODELS, OTHER_SCALING, clean_accuracy

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
