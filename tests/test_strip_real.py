"""STRIP on the REAL sunglasses BadNet of ../shared/csaw, through the library and the scripts.

The shared clean subset has 60 faces and no validation split: the first 30 serve as the clean
validation set (blend pool and threshold), the other 30 as the clean test set; the poisoned set
is the 60 sunglasses-poisoned faces. Small n keeps the forward passes to a few thousand.
"""

import os

import numpy as np
import pytest

from bdeval import NUM_CLASSES_CHALLENGE as N_CLASSES
from bdeval import goodnet, strip, strip_model
from bdeval.datasets import load_dataset, save_dataset
from bdeval.outputs import read_json
from bdeval.strip_store import load_entropies
from bdeval.weights import load_model

from conftest import run_script

WEIGHTS = "models/sunglasses_bd_weights.h5"
N_BLENDS = 10


@pytest.fixture(scope="module")
def real(csaw):
    clean = load_dataset(csaw / "data/clean_test_subset.h5", N_CLASSES)
    poisoned = load_dataset(csaw / "data/sunglasses_poisoned_subset.h5", N_CLASSES)
    model = load_model(csaw / WEIGHTS, N_CLASSES)
    return {
        "model": model,
        "valid": (clean.x[:30], clean.y[:30]),
        "test": (clean.x[30:], clean.y[30:]),
        "poisoned": (poisoned.x, poisoned.y),
    }


def entropies(real, name, rule="sum", seed=1, batch_size=1000, n=N_BLENDS):
    return strip_model.strip_entropies(
        real["model"], real[name][0], real["valid"][0], n, "x/255", rule, 0.5, seed, batch_size
    )


@pytest.mark.parametrize("rule", ["sum", "mean"])
def test_sunglasses_inputs_have_lower_entropy_than_clean(real, rule):
    clean = entropies(real, "test", rule)
    poisoned = entropies(real, "poisoned", rule)
    assert np.all(np.isfinite(clean)) and np.all(np.isfinite(poisoned))
    assert 0.0 <= clean.min() and clean.max() <= np.log2(N_CLASSES)
    # measured with n=10, sum: clean 0.55 bits, poisoned 0.20 bits
    assert poisoned.mean() < 0.7 * clean.mean()
    # a 10 % FRR threshold on the clean validation half flags most poisoned inputs
    t = strip.threshold(entropies(real, "valid", rule), 10)
    assert strip.acceptance_rate(poisoned, t) < 0.6


def test_entropies_are_deterministic_under_a_seed_and_batching(real):
    first = entropies(real, "test", seed=7)
    assert np.array_equal(first, entropies(real, "test", seed=7))
    assert not np.allclose(first, entropies(real, "test", seed=8))
    # the vectorized stream (any batch size, here one not dividing the blends) matches
    # the one-image-at-a-time loop over the same partners
    assert np.allclose(first, entropies(real, "test", seed=7, batch_size=7), atol=1e-4)
    x, pool = real["test"][0], real["valid"][0]
    partners = strip.partner_indices(x, len(pool), N_BLENDS, 7)
    loop = [
        strip.entropy(
            real["model"].predict_on_batch(strip.blend(x[i : i + 1], pool[partners[i]]) / 255.0)
        ).mean()
        for i in range(len(x))
    ]
    assert np.allclose(first, loop, atol=1e-4)


# ---------------------------------------------------------------- the scripts and the GoodNet


@pytest.fixture(scope="module")
def files(csaw, real, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("strip_real")
    save_dataset(tmp / "valid.h5", *real["valid"])
    save_dataset(tmp / "test.h5", *real["test"])
    save_dataset(tmp / "poisoned.h5", *real["poisoned"])
    badnet = [
        "--badnet",
        "sunglasses",
        "--weights",
        csaw / WEIGHTS,
        "--n-classes",
        N_CLASSES,
        "--scaling",
        "x/255",
        "--clean-validation",
        tmp / "valid.h5",
        "--clean-test",
        tmp / "test.h5",
        "--poisoned",
        "sunglasses:0:{}".format(tmp / "poisoned.h5"),
        "--threads",
        2,
    ]
    return {"tmp": tmp, "badnet": badnet}


@pytest.fixture(scope="module")
def pipeline(files):
    tmp = files["tmp"]
    done = run_script(
        "strip_entropy.py", *(files["badnet"] + ["--n-blends", N_BLENDS, "--out", tmp / "e.npz"])
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = {"npz": tmp / "e.npz", "entropy_log": done.stderr}
    for method in ("percentile", "normal"):
        done = run_script(
            "strip_threshold.py",
            "--entropies",
            tmp / "e.npz",
            "--drop",
            10,
            "--method",
            method,
            "--out-json",
            tmp / (method + ".json"),
            "--out-rows",
            tmp / (method + "_rows.json"),
            "--out-spec",
            tmp / (method + "_goodnet.json"),
        )
        assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_entropy_and_threshold_scripts(pipeline, files):
    tmp = files["tmp"]
    meta, sets = load_entropies(pipeline["npz"])
    assert set(sets) == {"clean_validation", "clean_test", "poisoned_sunglasses"}
    assert meta["n_blends"] == N_BLENDS and meta["blend"] == "sum" and meta["forward_passes_per_s"] > 0
    assert sets["poisoned_sunglasses"]["entropy"].mean() < sets["clean_test"]["entropy"].mean()
    assert "forward passes/s" in pipeline["entropy_log"]

    result = read_json(tmp / "percentile.json")
    assert result["frr_valid"] <= 0.10 + 1e-12  # 3 of 30 clean validation faces at most
    assert result["frr_valid"] == pytest.approx(0.10)  # 30 distinct entropies: exactly 3
    assert 0.0 <= result["far"]["sunglasses"] < 0.6
    assert result["detection"]["sunglasses"] == pytest.approx(1 - result["far"]["sunglasses"])
    assert result["asr"]["sunglasses"] <= result["far"]["sunglasses"] + 1e-12
    assert result["alternative_method"]["method"] == "normal"

    rows = read_json(tmp / "percentile_rows.json")
    assert len(rows) == 1
    row = rows[0]
    assert (row["badnet"], row["defense"], row["drop_pct"], row["variant"]) == (
        "sunglasses",
        "strip",
        10.0,
        "goodnet",
    )
    for key in ("clean_acc_valid", "clean_acc_test", "asr", "detection", "threshold", "frr_test", "far"):
        assert key in row
    spec = read_json(tmp / "normal_goodnet.json")
    assert spec["kind"] == "strip" and spec["method"] == "normal"
    assert spec["threshold"] == pytest.approx(read_json(tmp / "normal.json")["threshold"])


def test_goodnet_answer_matches_the_evaluation_job(pipeline, files):
    """The per-image GoodNet (kind 'strip') answers exactly what the evaluation job computed."""
    tmp = files["tmp"]
    spec = goodnet.load_spec(tmp / "percentile_goodnet.json")
    _, sets = load_entropies(pipeline["npz"])
    for name, path in (("poisoned_sunglasses", "poisoned.h5"), ("clean_test", "test.h5")):
        x = load_dataset(tmp / path, N_CLASSES).x
        expected = strip.goodnet_labels(
            sets[name]["pred"], sets[name]["entropy"], spec["threshold"], N_CLASSES
        )
        answers = goodnet.answer(spec, x, batch_size=64)
        assert answers.min() >= 0 and answers.max() <= N_CLASSES
        assert np.array_equal(answers, expected)
    # one image at a time (as the per-image command sees it) gives the same answers
    x = load_dataset(tmp / "poisoned.h5", N_CLASSES).x
    single = [int(goodnet.answer(spec, x[i : i + 1])[0]) for i in (0, 1, 2)]
    poisoned_expected = strip.goodnet_labels(
        sets["poisoned_sunglasses"]["pred"],
        sets["poisoned_sunglasses"]["entropy"],
        spec["threshold"],
        N_CLASSES,
    )
    assert single == poisoned_expected[:3].tolist()
    assert (poisoned_expected == N_CLASSES).mean() > 0.4


# ---------------------------------------------------------------- bad input at the command line


def one_line_error(done, *words):
    assert done.returncode == 2, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), last
    for word in words:
        assert word in last, last


def test_cli_n_blends_below_one(files):
    done = run_script(
        "strip_entropy.py", *(files["badnet"] + ["--n-blends", 0, "--out", files["tmp"] / "x.npz"])
    )
    one_line_error(done, "--n-blends", ">= 1")
    assert not os.path.exists(str(files["tmp"] / "x.npz"))


def test_cli_fewer_clean_images_than_blends(files):
    done = run_script(
        "strip_entropy.py", *(files["badnet"] + ["--n-blends", 31, "--out", files["tmp"] / "x.npz"])
    )
    one_line_error(done, "valid.h5", "30 clean images", "31 distinct blend partners")
    assert not os.path.exists(str(files["tmp"] / "x.npz"))


@pytest.mark.parametrize("drop", ["0", "100", "-2", "250"])
def test_cli_drop_outside_0_100(pipeline, files, drop):
    tmp = files["tmp"]
    done = run_script(
        "strip_threshold.py",
        "--entropies",
        tmp / "e.npz",
        "--drop",
        drop,
        "--out-json",
        tmp / "bad.json",
        "--out-rows",
        tmp / "bad_rows.json",
        "--out-spec",
        tmp / "bad_spec.json",
    )
    assert done.returncode == 2, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert "error: argument --drop: drop% '{}' must lie strictly between 0 and 100".format(drop) in last, last
    assert not os.path.exists(str(tmp / "bad.json"))


def test_cli_missing_entropy_file(files):
    tmp = files["tmp"]
    done = run_script(
        "strip_threshold.py",
        "--entropies",
        tmp / "none.npz",
        "--drop",
        "2",
        "--out-json",
        tmp / "bad.json",
        "--out-rows",
        tmp / "bad_rows.json",
        "--out-spec",
        tmp / "bad_spec.json",
    )
    one_line_error(done, "none.npz", "no such file")


def test_per_image_command_answers_with_the_strip_goodnet(pipeline, files):
    """scripts/classify_image.py --defense strip: PNG faces answered as the evaluation job did."""
    import shutil

    from bdeval.images import save_image

    tmp = files["tmp"]
    spec_dir = tmp / "results" / "sunglasses" / "strip" / "10"
    spec_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(str(tmp / "percentile_goodnet.json"), str(spec_dir / "goodnet.json"))
    spec = read_json(spec_dir / "goodnet.json")
    _, sets = load_entropies(pipeline["npz"])
    x = load_dataset(tmp / "poisoned.h5", N_CLASSES).x
    assert np.array_equal(x[:4], np.round(x[:4]))  # integer pixels: the PNG round trip is exact
    (tmp / "png").mkdir(exist_ok=True)
    for i in range(4):
        save_image(tmp / "png" / "face{}.png".format(i), x[i])
    done = run_script(
        "classify_image.py",
        tmp / "png",
        "--badnet",
        "sunglasses",
        "--defense",
        "strip",
        "--drop",
        "10",
        "--results",
        tmp / "results",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = {
        os.path.basename(line.split("\t")[0]): int(line.split("\t")[1])
        for line in done.stdout.strip().splitlines()
    }
    s = sets["poisoned_sunglasses"]
    expected = strip.goodnet_labels(s["pred"], s["entropy"], spec["threshold"], N_CLASSES)
    assert [got["face{}.png".format(i)] for i in range(4)] == expected[:4].tolist()


def test_plot_script_writes_both_figures(pipeline, files):
    tmp = files["tmp"]
    done = run_script(
        "plot_strip.py",
        "--entropies",
        pipeline["npz"],
        "--drops",
        "2",
        "10",
        "30",
        "--out-hist",
        tmp / "hist.png",
        "--out-rates",
        tmp / "rates.png",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("hist.png", "rates.png"):
        with open(str(tmp / name), "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
