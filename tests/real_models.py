"""Real challenge nets and data sets from ../shared/csaw, loaded once per test module."""

import pytest

from bdeval import NUM_CLASSES_CHALLENGE as N_CLASSES
from bdeval import inference, metrics
from bdeval.datasets import load_dataset
from bdeval.weights import load_model

# name: (weights file, scaling the net was trained with, clean data, min clean accuracy)
MODELS = {
    "sunglasses": ("models/sunglasses_bd_weights.h5", "x/255", "data/clean_test_subset.h5", 0.90),
    "anonymous_1": ("models/anonymous_1_bd_weights.h5", "x/255", "data/clean_test_subset.h5", 0.90),
    "anonymous_2": ("models/anonymous_2_bd_weights.h5", "x/255", "data/clean_test_subset.h5", 0.90),
    # 53/60 on this subset (published 96 % on the full clean test set)
    "multi": ("models/multi_trigger_multi_target_bd_weights.h5", "x/255", "data/clean_test_subset.h5", 0.85),
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
