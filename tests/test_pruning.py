"""Pruning and fine-pruning: ranking, stopping rule, saved nets and GoodNets, on a small demo badnet.

The real challenge weights are exercised in test_pruning_real.py. Python 3.7 syntax only.
"""

import os

import numpy as np
import pytest

from bdeval import budget, goodnet, inference, pruning, pruning_store
from bdeval.datasets import load_dataset
from bdeval.drops import check_drop, drop_label, drop_pct
from bdeval.errors import InputError
from bdeval.weights import load_model, read_weight_arrays
from conftest import script_output as run_script
from bdeval.outputs import read_json as read  # noqa: E402

DROPS = ["2", "10", "30"]


def prune_output_args(out, drops):
    """prune_badnet.py's output paths for the layout OUT/DROP/{repaired_weights.h5, goodnet.json,
    pruning.json, rows.json} and OUT/{curve.csv, curve.json, activation_maps.npz, pruning.json}."""
    args = []
    for flag, name in (
        ("--out-weights", "repaired_weights.h5"),
        ("--out-goodnet", "goodnet.json"),
        ("--out-records", "pruning.json"),
        ("--out-rows", "rows.json"),
    ):
        args += [flag] + [os.path.join(str(out), drop, name) for drop in drops]
    for flag, name in (
        ("--out-curve", "curve.csv"),
        ("--out-curve-json", "curve.json"),
        ("--out-maps", "activation_maps.npz"),
        ("--out-summary", "pruning.json"),
    ):
        args += [flag, os.path.join(str(out), name)]
    return args


# ---------------------------------------------------------------- ranking and stopping rule (NumPy)


def test_ranking_is_by_increasing_mean_activation_over_images_and_positions():
    rng = np.random.RandomState(0)
    pool3 = rng.uniform(0, 1, size=(7, 5, 4, 6)).astype(np.float32)
    pool3[..., 2] = 0.0  # a dead channel is pruned first
    pool3[..., 4] *= 3.0  # the most active channel last
    pool3[0, 0, 0, 5] = 1000.0  # one big value at one position counts through the mean
    means = pruning.mean_channel_activation(pool3)
    assert np.allclose(means, pool3.astype(np.float64).reshape(-1, 6).mean(axis=0))
    order = pruning.pruning_order(means)
    assert list(order[:1]) == [2] and order[-1] == 5 and order[-2] == 4
    assert np.all(np.diff(means[order]) >= 0)


def test_ties_keep_the_lower_channel_first():
    assert list(pruning.pruning_order([0.0, 1.0, 0.0, 0.5, 0.0])) == [0, 2, 4, 3, 1]


def test_stopping_rule_first_count_whose_drop_reaches_the_budget():
    # correct answers out of 100 after pruning k = 0, 1, 2, ... channels (not monotonic)
    correct = [98, 98, 97, 97, 96, 97, 93, 90, 60, 20]
    assert pruning.channels_for_drop(correct, 100, 1) == 2
    assert pruning.channels_for_drop(correct, 100, 2) == 4  # exactly 2 points: reached
    assert pruning.channels_for_drop(correct, 100, 2.5) == 6
    assert pruning.channels_for_drop(correct, 100, 30) == 8
    assert pruning.channels_for_drop(correct, 100, 79) is None
    for drop in (1, 2, 2.5, 4, 10, 30, 50):
        k = pruning.channels_for_drop(correct, 100, drop)
        assert correct[0] - correct[k] >= drop
        assert all(correct[0] - c < drop for c in correct[:k])


def test_stopping_rule_in_percentage_points_of_the_set_size():
    # 2 % of 150 images is 3 images
    assert pruning.channels_for_drop([150, 148, 147, 140], 150, 2) == 2


def test_goodnet_semantics_disagreement_answers_n():
    badnet = np.array([3, 0, 0, 7, 5])
    repaired = np.array([3, 0, 4, 7, 6])
    assert list(goodnet.disagreement(badnet, repaired, 1283)) == [3, 0, 1283, 7, 1283]


# ---------------------------------------------------------------- drop% (bdeval.drops)


def test_drop_label_is_the_folder_name():
    assert [drop_label(d) for d in (2, 2.0, 2.5, "10", 30.0, 0.25)] == ["2", "2", "2.5", "10", "30", "0.25"]


@pytest.mark.parametrize("bad", ["0", "100", "-2", "250", "nan", "inf", "ten", ""])
def test_a_drop_outside_0_100_is_refused_by_both_checks(bad):
    with pytest.raises(InputError) as info:
        check_drop(bad)
    message = str(info.value)
    assert message.startswith("drop% '{}': ".format(bad)) and "\n" not in message
    assert ("strictly between 0 and 100" in message) != ("not a number" in message)
    with pytest.raises(Exception) as info:  # argparse.ArgumentTypeError
        drop_pct(bad)
    assert type(info.value).__name__ == "ArgumentTypeError" and "drop% '{}'".format(bad) in str(info.value)


def test_a_drop_inside_0_100_is_a_float():
    assert check_drop("2.5") == 2.5 and check_drop(10) == 10.0 and drop_pct("0.5") == 0.5


# ---------------------------------------------------------------- the curve and activation map files


def test_curve_files_round_trip_and_bad_files_are_one_line_errors(tmp_path):
    curve = {
        "channel": [None, 2, 0, 1],
        "correct": [9, 9, 8, 1],
        "clean_acc_valid": [0.9, 0.9, 0.8, 0.1],
        "asr": {"b": [1.0, 1.0, 0.5, 0.0], "a": [0.75, 0.5, 0.25, 0.0]},
    }
    pruning_store.save_curve(
        tmp_path / "curve.csv", tmp_path / "curve.json", curve, [2, 0, 1], np.array([0.5, 2.0 / 3, 0.25])
    )
    assert (tmp_path / "curve.csv").read_text().splitlines() == [
        "channels_pruned,fraction_pruned,channel,mean_activation,clean_acc_valid,asr:a,asr:b",
        "0,0,,,0.9,0.75,1",
        "1,0.333333,2,0.25,0.9,0.5,1",
        "2,0.666667,0,0.5,0.8,0.25,0.5",
        "3,1,1,0.666667,0.1,0,0",
    ]
    assert read(tmp_path / "curve.json") == dict(curve, order=[2, 0, 1], mean_activation=[0.5, 2.0 / 3, 0.25])
    loaded = pruning_store.load_curve(tmp_path / "curve.csv")
    assert sorted(loaded) == ["asr:a", "asr:b", "clean_acc_valid", "fraction_pruned"]
    assert loaded["asr:b"].tolist() == [1.0, 1.0, 0.5, 0.0]

    maps = {"clean": np.ones((5, 4, 3), np.float32), "order": np.array([2, 0, 1])}
    pruning_store.save_activation_maps(
        tmp_path / "maps.npz", maps["clean"], [("b", 2 * maps["clean"])], maps["order"]
    )
    loaded = pruning_store.load_activation_maps(tmp_path / "maps.npz")
    assert sorted(loaded) == ["clean", "order", "poisoned_b"]
    assert np.array_equal(loaded["poisoned_b"], 2 * maps["clean"])

    (tmp_path / "text.npz").write_text("not an npz")
    np.savez(str(tmp_path / "no_order.npz"), clean=maps["clean"])
    (tmp_path / "short.csv").write_text("fraction_pruned\n0\n")
    (tmp_path / "words.csv").write_text("fraction_pruned,clean_acc_valid\n0,high\n")
    for load, name, problem in [
        (pruning_store.load_curve, "none.csv", "no such file"),
        (pruning_store.load_curve, "short.csv", "not a pruning curve: no clean_acc_valid"),
        (pruning_store.load_curve, "words.csv", "not a pruning curve"),
        (pruning_store.load_activation_maps, "none.npz", "no such file"),
        (pruning_store.load_activation_maps, "text.npz", "not an activation map file"),
        (pruning_store.load_activation_maps, "no_order.npz", "not an activation map file: no order"),
    ]:
        with pytest.raises(InputError) as info:
            load(tmp_path / name)
        message = str(info.value)
        assert message.startswith("{}: {}".format(tmp_path / name, problem)), message
        assert "\n" not in message


# ---------------------------------------------------------------- pruning a real DeepID net (demo)


@pytest.fixture(scope="module")
def demo_pruning(small_demo, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("pruning") / "pruning"
    log = run_script(
        "prune_badnet.py",
        *(
            small_demo.badnet_args("single")
            + ["--threads", "2", "--drops"]
            + DROPS
            + prune_output_args(out, DROPS)
        ),
    )
    return out, log


UNREAD_BADNET = [
    "--badnet",
    "x",
    "--weights",
    "x.h5",
    "--scaling",
    "x/255",
    "--clean-validation",
    "v.h5",
    "--clean-test",
    "t.h5",
]  # the command line is refused before any file is read


def test_output_lists_must_match_the_drops(tmp_path):
    args = UNREAD_BADNET + ["--drops", "2", "10"] + prune_output_args(tmp_path, ["2", "10"])
    short = args[: args.index("--out-goodnet") - 1] + args[args.index("--out-goodnet") :]  # one weights path
    log = run_script("prune_badnet.py", *short, code=2)
    assert "--out-weights: 1 paths for 2 --drops values" in log.splitlines()[-1]
    twice = [a if a != "10" else "2.0" for a in args]
    log = run_script("prune_badnet.py", *twice, code=2)
    assert "--drops: each drop% once, got 2 2" in log.splitlines()[-1]
    log = run_script("prune_badnet.py", *[a if a != "10" else "100" for a in args], code=2)
    assert "argument --drops: drop% '100' must lie strictly between 0 and 100" in log.splitlines()[-1]
    assert not list(tmp_path.iterdir())


def test_fine_pruning_refuses_a_drop_outside_0_100(tmp_path):
    log = run_script(
        "fine_prune.py",
        *(
            UNREAD_BADNET
            + [
                "--pruned-weights",
                "p.h5",
                "--drop",
                "0",
                "--out-weights",
                tmp_path / "w.h5",
                "--out-goodnet",
                tmp_path / "g.json",
                "--out-json",
                tmp_path / "f.json",
                "--out-rows",
                tmp_path / "r.json",
            ]
        ),
        code=2,
    )
    assert "argument --drop: drop% '0' must lie strictly between 0 and 100" in log.splitlines()[-1]


def test_zeroed_conv3_channel_is_a_zero_pool3_channel(small_demo):  # noqa: F811
    model = load_model(small_demo.weights("single"), small_demo.n_classes)
    valid = load_dataset(small_demo.clean_validation, small_demo.n_classes)
    pool3 = inference.activations(model, "pool_3", valid.x, "x/255")
    order = pruning.pruning_order(pruning.mean_channel_activation(pool3))
    channels = list(order[:25])
    head = pruning.Head(model, small_demo.n_classes)
    mask = pruning.channel_mask(60, channels)
    pruning.prune_model(model, channels)
    pruned_pool3 = inference.activations(model, "pool_3", valid.x, "x/255")
    assert np.all(pruned_pool3[..., channels] == 0)
    assert np.allclose(pruned_pool3, pool3 * mask, atol=1e-5)
    # the head on masked pool_3 answers as the pruned net
    assert np.array_equal(head.labels(pool3, mask), inference.predict_labels(model, valid.x, "x/255"))


def test_demo_badnet_is_a_working_backdoor(small_demo, demo_pruning):  # noqa: F811
    curve = read(demo_pruning[0] / "curve.json")
    assert curve["clean_acc_valid"][0] >= 0.85
    assert curve["asr"]["sunglasses"][0] >= 0.85
    assert len(curve["clean_acc_valid"]) == 61 and curve["channel"][0] is None


def test_pruning_order_is_the_clean_mean_activation_order(small_demo, demo_pruning):  # noqa: F811
    summary = read(demo_pruning[0] / "pruning.json")
    model = load_model(small_demo.weights("single"), small_demo.n_classes)
    valid = load_dataset(small_demo.clean_validation, small_demo.n_classes)
    means = inference.activations(model, "pool_3", valid.x, "x/255").mean(axis=(0, 1, 2))
    assert np.allclose(summary["mean_activation"], means, rtol=1e-4, atol=1e-6)
    order = summary["order"]
    assert sorted(order) == list(range(60))
    assert np.all(np.diff(np.asarray(summary["mean_activation"])[order]) >= 0)
    curve = read(demo_pruning[0] / "curve.json")
    assert curve["channel"][1:] == order


@pytest.mark.parametrize("drop", DROPS)
def test_stopping_rule_on_the_demo_curve(demo_pruning, drop):
    out = demo_pruning[0]
    curve = read(out / "curve.json")
    record = read(out / drop / "pruning.json")
    k = record["channels_pruned"]
    n = read(out / "pruning.json")["n_clean_validation"]
    correct = curve["correct"]
    assert record["reached"] and 0 < k <= 60
    assert (correct[0] - correct[k]) * 100.0 >= float(drop) * n  # drop reached at k
    assert (correct[0] - correct[k - 1]) * 100.0 < float(drop) * n  # not one channel earlier
    assert record["pruned_channels"] == curve["channel"][1 : k + 1]
    assert record["clean_acc_valid"] == pytest.approx(curve["clean_acc_valid"][k])


@pytest.mark.parametrize("drop", DROPS)
def test_saved_net_has_zero_channels_and_reloads_to_the_same_answers(
    small_demo, demo_pruning, drop
):  # noqa: F811,E501
    out = demo_pruning[0]
    record = read(out / drop / "pruning.json")
    pruned = record["pruned_channels"]
    saved = read_weight_arrays(out / drop / "repaired_weights.h5")
    original = read_weight_arrays(small_demo.weights("single"))
    kernel, bias = saved["conv_3"]
    assert np.all(kernel[..., pruned] == 0) and np.all(bias[pruned] == 0)
    assert pruning.zero_channels(saved) == sorted(pruned)
    keep = [c for c in range(60) if c not in pruned]
    assert np.array_equal(kernel[..., keep], original["conv_3"][0][..., keep])
    for layer in ("conv_1", "conv_2", "conv_4", "fc_1", "fc_2", "output"):
        assert all(np.array_equal(a, b) for a, b in zip(saved[layer], original[layer])), layer
    # reloaded from the file, in full: the validation accuracy and ASR the curve recorded
    model = load_model(out / drop / "repaired_weights.h5", small_demo.n_classes)
    valid = load_dataset(small_demo.clean_validation, small_demo.n_classes)
    pred = inference.predict_labels(model, valid.x, "x/255")
    assert np.mean(pred == valid.y) == pytest.approx(record["clean_acc_valid"])
    assert record["full_vs_head_mismatches"] == 0
    _, target, path = small_demo.poisoned("single")[0]
    poisoned = load_dataset(path, small_demo.n_classes)
    asr = np.mean(inference.predict_labels(model, poisoned.x, "x/255") == target)
    assert asr == pytest.approx(record["asr"]["sunglasses"])


def test_goodnet_spec_answers_n_where_badnet_and_pruned_net_disagree(
    small_demo, demo_pruning
):  # noqa: F811,E501
    out = demo_pruning[0]
    spec = goodnet.load_spec(out / "30" / "goodnet.json")
    assert spec["kind"] == "disagreement" and spec["n_classes"] == small_demo.n_classes
    test = load_dataset(small_demo.clean_test, small_demo.n_classes)
    _, _, path = small_demo.poisoned("single")[0]
    x = np.concatenate([test.x, load_dataset(path, small_demo.n_classes).x])
    answers = goodnet.answer(spec, x)
    b = inference.predict_labels(load_model(spec["weights"], spec["n_classes"]), x, "x/255")
    r = inference.predict_labels(load_model(spec["repaired_weights"], spec["n_classes"]), x, "x/255")
    assert np.array_equal(answers, np.where(b == r, b, small_demo.n_classes))
    assert np.any(answers == small_demo.n_classes) and np.any(answers < small_demo.n_classes)


def test_rows_for_every_drop(demo_pruning):
    out = demo_pruning[0]
    for drop in DROPS:
        rows = {r["variant"]: r for r in read(out / drop / "rows.json")}
        record = read(out / drop / "pruning.json")
        assert sorted(rows) == ["goodnet", "repaired"]
        for row in rows.values():
            assert row["defense"] == "pruning" and row["drop_pct"] == float(drop)
            assert row["channels_pruned"] == record["channels_pruned"]
            assert set(row["asr"]) == {"sunglasses"}
        assert rows["repaired"]["clean_acc_test"] == pytest.approx(record["clean_acc_test"])
        assert set(rows["goodnet"]["detection"]) == {"sunglasses"}
        good = record["goodnet"]
        assert rows["goodnet"]["clean_acc_test"] == pytest.approx(good["clean_acc_test"])
        # a poisoned image is either still the target, or flagged, or something else
        assert good["asr"]["sunglasses"] + good["detection"]["sunglasses"] <= 1.0 + 1e-9
    assert "pruned  1/60 channels" in demo_pruning[1]


def test_fine_pruning_keeps_pruned_channels_zero(small_demo, demo_pruning, tmp_path):  # noqa: F811
    out = demo_pruning[0]
    record = read(out / "30" / "pruning.json")
    fine = tmp_path / "fine"
    run_script(
        "fine_prune.py",
        *(
            small_demo.badnet_args("single")
            + [
                "--threads",
                "2",
                "--pruned-weights",
                out / "30" / "repaired_weights.h5",
                "--drop",
                "30",
                "--epochs",
                "3",
                "--learning-rate",
                "0.001",
                "--fine-tune-batch-size",
                "32",
                "--out-weights",
                fine / "repaired_weights.h5",
                "--out-goodnet",
                fine / "goodnet.json",
                "--out-json",
                fine / "fine_pruning.json",
                "--out-rows",
                fine / "rows.json",
            ]
        ),
    )
    saved = read_weight_arrays(fine / "repaired_weights.h5")
    pruned = record["pruned_channels"]
    assert pruning.zero_channels(saved) == sorted(pruned)
    before = read_weight_arrays(out / "30" / "repaired_weights.h5")
    assert not np.array_equal(saved["fc_1"][0], before["fc_1"][0])  # it did train
    result = read(fine / "fine_pruning.json")
    assert result["channels_pruned"] == len(pruned)
    # fine-tuned on the tuning part; clean_acc_valid is the held-out check part's, within budget
    assert result["tuning_images"] + result["check_images"] == 8 * 25
    assert (
        result["within_budget"]
        and result["clean_acc_valid"] * result["check_images"]
        >= result["badnet_check_correct"] - 0.30 * result["check_images"]
    )
    rows = {r["variant"]: r for r in read(fine / "rows.json")}
    assert rows["repaired"]["defense"] == "fine_pruning" and rows["goodnet"]["drop_pct"] == 30.0
    assert rows["goodnet"]["clean_acc_test"] == pytest.approx(result["goodnet"]["clean_acc_test"])
    assert rows["repaired"]["asr"] == result["asr"] and rows["goodnet"]["fine_tune_epochs"] == 3
    spec = goodnet.load_spec(fine / "goodnet.json")
    assert spec["kind"] == "disagreement" and spec["repaired_weights"] == str(fine / "repaired_weights.h5")
    model = load_model(fine / "repaired_weights.h5", small_demo.n_classes)
    valid = load_dataset(small_demo.clean_validation, small_demo.n_classes)
    _, check = budget.tuning_check_split(valid.y, 0.2, 1)  # the script's defaults: seed 1, 0.2
    assert np.mean(
        inference.predict_labels(model, valid.x[check], "x/255") == valid.y[check]
    ) == pytest.approx(result["clean_acc_valid"])


def test_keep_pruned_callback_rezeroes_after_each_batch(small_demo):  # noqa: F811
    from bdeval.training import fit

    model = load_model(small_demo.weights("single"), small_demo.n_classes)
    channels = [0, 7, 59]
    pruning.prune_model(model, channels)
    valid = load_dataset(small_demo.clean_validation, small_demo.n_classes)
    seen = []

    class Check(pruning.keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            kernel, bias = self.model.get_layer("conv_3").get_weights()
            seen.append(bool(np.all(kernel[..., channels] == 0) and np.all(bias[channels] == 0)))

    fit(
        model,
        valid.x[:64],
        valid.y[:64],
        "x/255",
        1,
        16,
        0.05,
        0,
        callbacks=[pruning.KeepPruned(channels), Check()],
    )
    assert seen and all(seen)


def test_plots_of_the_curve_and_the_activation_maps(demo_pruning, tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    out = demo_pruning[0]
    run_script(
        "plot_pruning.py",
        "--badnet",
        "small_single",
        "--curve",
        out / "curve.csv",
        "--maps",
        out / "activation_maps.npz",
        "--summary",
        out / "pruning.json",
        "--out-curve",
        tmp_path / "curve.png",
        "--out-maps",
        tmp_path / "maps.png",
    )
    for name in ("curve.png", "maps.png"):
        with Image.open(str(tmp_path / name)) as img:
            assert img.format == "PNG" and img.size[0] > 300 and img.size[1] > 200
