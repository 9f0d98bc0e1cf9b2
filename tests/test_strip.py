"""STRIP's NumPy core: entropy, blends, partner draws, thresholds, GoodNet labels, bad values.

No model here (see test_strip_real.py for the real sunglasses net). Python 3.7 syntax.
"""

import json
import math

import numpy as np
import pytest

from bdeval import strip, strip_store
from bdeval.errors import InputError
from conftest import loads_tensorflow


def test_the_numpy_core_and_the_files_import_without_tensorflow():
    assert not loads_tensorflow(
        "bdeval.strip",
        "bdeval.strip_store",
        "bdeval.rows",
        "bdeval.mad",
        "bdeval.drops",
        "bdeval.pruning_store",
        "bdeval.disagreement",
    )


# ---------------------------------------------------------------- entropy


@pytest.mark.parametrize("k", [2, 16, 1283])
def test_entropy_of_uniform_is_log2_k(k):
    probs = np.full((3, k), 1.0 / k, np.float32)
    assert np.allclose(strip.entropy(probs), math.log2(k), atol=1e-5)


def test_entropy_of_one_hot_is_zero():
    probs = np.eye(1283, dtype=np.float32)[[0, 7, 1282]]
    ent = strip.entropy(probs)
    assert ent.shape == (3,)
    assert np.all(ent == 0.0)  # 0 log 0 = 0 exactly, no NaN


def test_entropy_of_known_distribution():
    assert strip.entropy([0.5, 0.25, 0.25]) == pytest.approx(1.5)
    assert strip.entropy([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]]).tolist() == [1.0, 0.0]


# ---------------------------------------------------------------- blends


def test_sum_blend_is_clipped_to_the_pixel_range():
    x = np.full((1, 55, 47, 3), 200.0, np.float32)
    partner = np.full((1, 55, 47, 3), 100.0, np.float32)
    partner[0, :10] = 20.0
    out = strip.blend(x, partner, "sum")
    assert out.dtype == np.float32 and out.max() == 255.0
    assert np.all(out[0, :10] == 220.0) and np.all(out[0, 10:] == 255.0)


def test_mean_blend_weights_the_input():
    x = np.full((2, 55, 47, 3), 200.0, np.float32)
    partner = np.zeros((2, 55, 47, 3), np.float32)
    assert np.allclose(strip.blend(x, partner, "mean", 0.5), 100.0)
    assert np.allclose(strip.blend(x, partner, "mean", 0.25), 50.0)


# ---------------------------------------------------------------- partner draws


def images(n, seed=0):
    return np.random.RandomState(seed).randint(0, 256, size=(n, 55, 47, 3)).astype(np.float32)


def test_partners_are_distinct_seeded_and_deterministic():
    x = images(20)
    first = strip.partner_indices(x, 50, 10, seed=3)
    assert first.shape == (20, 10)
    assert first.min() >= 0 and first.max() < 50
    assert all(len(set(row)) == 10 for row in first.tolist())  # without replacement
    assert np.array_equal(first, strip.partner_indices(x, 50, 10, seed=3))
    assert not np.array_equal(first, strip.partner_indices(x, 50, 10, seed=4))


def test_partners_depend_on_the_image_not_its_position():
    x = images(12)
    order = np.random.RandomState(1).permutation(12)
    assert np.array_equal(
        strip.partner_indices(x, 40, 5, 1)[order], strip.partner_indices(x[order], 40, 5, 1)
    )
    # one image alone (the per-image command) gets the partners it got in the full set
    assert np.array_equal(strip.partner_indices(x[5:6], 40, 5, 1)[0], strip.partner_indices(x, 40, 5, 1)[5])


# ---------------------------------------------------------------- thresholds


@pytest.mark.parametrize(
    "drop,expected",
    [(5, 0.05), (2, 0.02), (2.5, 0.025), (10, 0.10), (30, 0.30), (0.05, 0.0), (0.1, 0.001), (99.9, 0.999)],
)
def test_percentile_threshold_frr_on_a_known_sample(drop, expected):
    entropies = np.random.RandomState(0).permutation(1000) / 100.0  # 1000 distinct values
    t = strip.percentile_threshold(entropies, drop)
    assert strip.rejection_rate(entropies, t) == pytest.approx(expected)


def test_percentile_threshold_never_exceeds_the_budget_with_ties():
    entropies = np.repeat([0.1, 0.2, 0.3, 0.4], 25)  # 100 values in 4 tied blocks
    for drop in (1, 10, 24, 25, 26, 49, 50, 51, 99):
        frr = strip.rejection_rate(entropies, strip.percentile_threshold(entropies, drop))
        assert frr <= drop / 100.0 + 1e-12
        assert frr == pytest.approx(25 * (drop // 25) / 100.0)


def test_normal_quantile():
    assert strip.normal_quantile(0.5) == pytest.approx(0.0, abs=1e-12)
    assert strip.normal_quantile(0.05) == pytest.approx(-1.6448536269514722, abs=1e-9)
    assert strip.normal_quantile(0.975) == pytest.approx(1.959963984540054, abs=1e-9)


def test_normal_threshold_is_the_fitted_quantile():
    entropies = np.random.RandomState(2).normal(1.0, 0.2, size=20000)
    t = strip.normal_threshold(entropies, 5)
    assert t == pytest.approx(entropies.mean() - 1.6448536269514722 * entropies.std(ddof=1), rel=1e-9)
    assert strip.rejection_rate(entropies, t) == pytest.approx(0.05, abs=0.005)  # data are normal


def test_threshold_dispatch():
    e = np.arange(100, dtype=float)
    assert strip.threshold(e, 10, "percentile") == strip.percentile_threshold(e, 10)
    assert strip.threshold(e, 10, "normal") == strip.normal_threshold(e, 10)


def test_rate_curves():
    clean = np.arange(10, dtype=float)
    poisoned = {"t": np.array([0.5, 1.5, 2.5, 3.5])}
    curves = strip.rate_curves(clean, poisoned, [0.0, 2.0, 100.0])
    assert curves["frr"].tolist() == [0.0, 0.2, 1.0]
    assert curves["far"]["t"].tolist() == [1.0, 0.5, 0.0]


# ---------------------------------------------------------------- GoodNet semantics


def test_goodnet_answers_n_below_the_threshold_and_the_label_otherwise():
    labels = np.array([3, 0, 7, 0])
    entropies = np.array([0.9, 0.01, 0.5, 0.2])
    assert strip.goodnet_labels(labels, entropies, 0.5, 16).tolist() == [3, 16, 7, 16]
    assert strip.rejection_rate(entropies, 0.5) == 0.5
    assert strip.acceptance_rate(entropies, 0.5) == 0.5


# ---------------------------------------------------------------- bad values


@pytest.mark.parametrize("n", [0, -3, 2.5])
def test_n_blends_below_one_is_an_input_error(n):
    with pytest.raises(InputError) as info:
        strip.check_n_blends(n)
    assert "number of blends" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("drop", [0, 100, -5, 150, float("nan"), float("inf")])
def test_drop_outside_0_100_is_an_input_error(drop):
    with pytest.raises(InputError) as info:
        strip.percentile_threshold(np.arange(10.0), drop)
    assert "strictly between 0 and 100" in str(info.value)
    with pytest.raises(InputError):
        strip.normal_threshold(np.arange(10.0), drop)


def test_fewer_clean_images_than_blends_is_an_input_error():
    with pytest.raises(InputError) as info:
        strip.partner_indices(images(3), pool_size=5, n_blends=10, seed=1)
    message = str(info.value)
    assert "5 clean images" in message and "10 distinct blend partners" in message
    assert "\n" not in message


def test_bad_blend_rule_weight_and_method():
    with pytest.raises(InputError):
        strip.check_blend("max", 0.5)
    with pytest.raises(InputError):
        strip.check_blend("mean", 1.0)
    strip.check_blend("sum", 7.0)  # weight unused by 'sum'
    with pytest.raises(InputError):
        strip.threshold(np.arange(10.0), 5, "median")
    with pytest.raises(InputError):
        strip.normal_threshold([0.3], 5)


@pytest.mark.parametrize(
    "n_inputs,n_blends,batch", [(7, 10, 100), (7, 10, 25), (5, 10, 10), (3, 10, 4), (1, 1, 1)]
)
def test_blend_chunks_cover_every_pair_once_within_the_batch_bound(n_inputs, n_blends, batch):
    seen = np.zeros((n_inputs, n_blends), int)
    for i0, i1, j0, j1 in strip.blend_chunks(n_inputs, n_blends, batch):
        assert 0 < (i1 - i0) * (j1 - j0) <= batch
        seen[i0:i1, j0:j1] += 1
    assert np.all(seen == 1)


# ---------------------------------------------------------------- the entropy file


def entropy_sets(triggers, n=4):
    rng = np.random.RandomState(0)
    return {
        name: {"entropy": rng.uniform(0, 2, n), "pred": rng.randint(0, 16, n), "label": rng.randint(0, 16, n)}
        for name in strip_store.set_names(triggers)
    }


def test_entropy_file_round_trip(tmp_path):
    meta = {
        "badnet": "b",
        "n_blends": 3,
        "poisoned": [{"trigger": "z", "target": 1}, {"trigger": "a", "target": 2}],
    }
    sets = entropy_sets(["z", "a"])
    strip_store.save_entropies(tmp_path / "e.npz", meta, sets)
    with np.load(str(tmp_path / "e.npz")) as handle:
        assert handle.files == [
            "{}_{}".format(name, key) for name in sets for key in ("entropy", "pred", "label")
        ] + ["meta"]
    got_meta, got = strip_store.load_entropies(tmp_path / "e.npz")
    assert got_meta == meta
    assert list(got) == ["clean_validation", "clean_test", "poisoned_z", "poisoned_a"]
    for name in sets:
        for key in ("entropy", "pred", "label"):
            assert np.array_equal(got[name][key], sets[name][key])


def test_bad_entropy_files_are_one_line_errors_naming_the_file(tmp_path):
    meta = {"poisoned": [{"trigger": "t", "target": 0}]}
    sets = entropy_sets(["t"])
    (tmp_path / "text.npz").write_text("not an npz")
    strip_store.save_entropies(tmp_path / "full.npz", meta, sets)
    (tmp_path / "truncated.npz").write_bytes((tmp_path / "full.npz").read_bytes()[:300])
    arrays = {"{}_{}".format(n, k): v for n, s in sets.items() for k, v in s.items()}
    np.savez(str(tmp_path / "no_meta.npz"), **arrays)
    np.savez(str(tmp_path / "bad_meta.npz"), meta=np.array("{not json"), **arrays)
    del arrays["poisoned_t_pred"]
    np.savez(str(tmp_path / "no_set.npz"), meta=np.array(json.dumps(meta)), **arrays)
    for name, problem in [
        ("none.npz", "no such file (run strip_entropy.py first)"),
        ("text.npz", "not a STRIP entropy file ("),
        ("truncated.npz", "not a STRIP entropy file ("),
        ("no_meta.npz", "not a STRIP entropy file: no meta"),
        ("bad_meta.npz", "not a STRIP entropy file: unreadable meta"),
        ("no_set.npz", "no entropies of set 'poisoned_t'"),
    ]:
        with pytest.raises(InputError) as info:
            strip_store.load_entropies(tmp_path / name)
        message = str(info.value)
        assert message.startswith("{}: {}".format(tmp_path / name, problem)), message
        assert "\n" not in message
