"""The fine-tuning routine of every repair that trains: the tuning/check split, the drop% budget
on the check part and the checkpoint handed back (bdeval.budget: NumPy; bdeval.finetune: Keras).

Real weights: test_finetune_real.py. Python 3.7 syntax only: the suite also runs on TF 1.15.
"""

import numpy as np
import pytest

from bdeval import budget
from conftest import loads_tensorflow

# ---------------------------------------------------------------- the split (NumPy)


def test_split_is_stratified_where_classes_allow_and_covers_every_image_once():
    y = np.array([0] * 9 + [1] * 5 + [2] * 2 + list(range(3, 13)))  # 16 + 10 single images
    tuning, check = budget.tuning_check_split(y, 0.2, seed=4)
    assert sorted(np.concatenate([tuning, check]).tolist()) == list(range(len(y)))
    for label in (0, 1, 2):  # every class with >= 2 images is in both parts
        assert label in set(y[check]) and label in set(y[tuning])
    assert np.sum(y[check] == 0) == 2 and np.sum(y[check] == 1) == 1 and np.sum(y[check] == 2) == 1
    # the singles fill the check part up to round(0.2 * 26) = 5 images
    assert len(check) == 5


def test_split_is_seeded():
    y = np.repeat(np.arange(16), 30)
    a = budget.tuning_check_split(y, 0.2, seed=1)
    b = budget.tuning_check_split(y, 0.2, seed=1)
    c = budget.tuning_check_split(y, 0.2, seed=2)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[1], c[1])
    assert len(a[1]) == 96 and all(np.sum(y[a[1]] == k) == 6 for k in range(16))


def test_split_of_single_images_and_of_two_images():
    tuning, check = budget.tuning_check_split(np.arange(30), 0.2, seed=1)  # the real 30-face case
    assert len(check) == 6 and len(tuning) == 24
    tuning, check = budget.tuning_check_split(np.array([7, 9]), 0.9, seed=1)
    assert len(check) == 1 and len(tuning) == 1
    with pytest.raises(ValueError, match="too few"):
        budget.tuning_check_split(np.array([3]), 0.2, seed=1)
    with pytest.raises(ValueError, match="fraction"):
        budget.tuning_check_split(np.arange(10), 1.0, seed=1)


# ---------------------------------------------------------------- the budget (NumPy)


def test_budget_is_counted_in_images_of_the_check_part():
    # 30 images, drop 10 %: 3 may be lost, 4 may not; 6 images, drop 10 %: none may be lost
    assert budget.within_budget(30, 27, 30, 10) and not budget.within_budget(30, 26, 30, 10)
    assert budget.within_budget(5, 5, 6, 10) and not budget.within_budget(5, 4, 6, 10)
    assert budget.within_budget(5, 6, 6, 2)  # better than the badnet is within budget


def cps(*specs):
    return [
        dict(epoch=i, check_correct=c, **({"trigger_rate": r} if r is not None else {}))
        for i, (c, r) in enumerate(specs)
    ]


def test_selection_best_check_accuracy_within_budget_later_epoch_on_ties():
    # epoch 0 (the starting net) is a checkpoint like the others
    assert budget.select_checkpoint(cps((20, None), (18, None), (19, None)), 20, 20, 2) == 0
    assert budget.select_checkpoint(cps((17, None), (19, None), (19, None), (18, None)), 20, 20, 10) == 2
    # nothing within budget: None, never a net outside it
    assert budget.select_checkpoint(cps((15, None), (17, None)), 20, 20, 10) is None


def test_selection_prefers_the_lowest_trigger_rate_within_budget():
    checkpoints = cps((20, 1.0), (19, 0.1), (18, 0.0), (20, 0.5))
    assert budget.select_checkpoint(checkpoints, 20, 20, 5) == 1  # 18/20 is outside 5 %
    assert budget.select_checkpoint(checkpoints, 20, 20, 10) == 2


def test_unlearning_stops_once_the_reversed_trigger_stayed_down_for_patience_epochs():
    assert not budget.trigger_settled([1.0, 0.5, 0.0, 0.0, 0.0], 3)
    assert budget.trigger_settled([1.0, 0.5, 0.0, 0.0, 0.0, 0.0], 3)
    assert not budget.trigger_settled([1.0, 0.0, 0.0, 0.1, 0.0], 3)  # came back up: wait again
    assert not budget.trigger_settled([1.0, 1.0, 1.0, 1.0, 1.0], 3)  # not moved yet: go on
    assert not budget.trigger_settled([1.0, 0.0], None)


def test_early_stop_after_patience_epochs_below_the_best():
    assert not budget.should_stop([5, 4, 4], 3)
    assert budget.should_stop([5, 4, 4, 3], 3)
    assert not budget.should_stop([5, 4, 5, 3], 3)  # back to the best: patience starts again
    assert not budget.should_stop([5, 6, 6, 6, 6], 3)


def test_the_numpy_core_imports_without_tensorflow():
    assert not loads_tensorflow("bdeval.budget")


# ---------------------------------------------------------------- the routine on a small demo net


def test_fine_tune_checkpoints_and_choice_on_the_demo(small_demo):  # noqa: F811
    from bdeval import finetune, tfcompat
    from bdeval.datasets import load_dataset
    from bdeval.inference import predict_labels
    from bdeval.weights import load_model

    tfcompat.configure(1, 2)
    valid = load_dataset(small_demo.clean_validation, small_demo.n_classes)
    tuning, check = budget.tuning_check_split(valid.y, 0.2, seed=1)
    model = load_model(small_demo.weights("single"), small_demo.n_classes)
    start = model.get_weights()
    base = int(np.sum(predict_labels(model, valid.x[check], "x/255") == valid.y[check]))
    check_set = finetune.Dataset(valid.x[check], valid.y[check])
    result = finetune.fine_tune(
        model,
        lambda e: (valid.x[tuning], valid.y[tuning]),
        check_set,
        "x/255",
        base,
        2,
        epochs=3,
        patience=3,
        batch_size=32,
        learning_rate=1e-3,
        seed=1,
    )
    assert [c["epoch"] for c in result.checkpoints] == [0, 1, 2, 3]
    assert result.checkpoints[0]["check_correct"] == base
    assert all(np.array_equal(a, b) for a, b in zip(result.weights[0], start))
    assert result.chosen == budget.select_checkpoint(result.checkpoints, base, len(check), 2)
    for cp, weights in zip(result.checkpoints, result.weights):  # each figure is its own net's
        model.set_weights(weights)
        assert cp["check_correct"] == int(
            np.sum(predict_labels(model, valid.x[check], "x/255") == valid.y[check])
        )


def test_a_small_check_part_says_it_cannot_vouch_for_the_budget():
    # 6 check images (the 30-face split): a 50-point loss can go unseen; 2309 (the challenge's
    # validation set x 0.2) vouch for 2 %
    note = budget.small_check_note(6, 2)
    assert note == (
        "only 6 check images: a clean-accuracy loss of up to 50 points can go unseen "
        "(budget 2 %); give more clean images"
    )
    assert budget.small_check_note(2309, 2) is None
    assert budget.small_check_note(30, 10) is None and budget.small_check_note(30, 4) is not None
    assert budget.join_notes(None, "a", "", "b") == "a; b" and budget.join_notes(None) is None
