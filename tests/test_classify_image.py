"""The per-image command on real PNGs written from the shared CSAW subsets.

A clean face the unrepaired sunglasses_bd_net classifies correctly answers its identity; a
sunglasses face answers 0 (the backdoor). With a defense, the GoodNet's answer in [0, N].
Bad files get one error line each, the others are still answered. Python 3.7 syntax only.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from bdeval import NUM_CLASSES_CHALLENGE as N_CLASSES
from bdeval import defenses, goodnet, inference
from bdeval.datasets import load_dataset, save_dataset
from bdeval.images import save_image
from bdeval.weights import load_model
from conftest import SCRIPTS
from test_pruning import prune_output_args

yaml = pytest.importorskip("yaml")


def classify(*args, **kwargs):
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "classify_image.py")] + [str(a) for a in args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        **kwargs,
    )
    return proc.returncode, proc.stdout, proc.stderr


def answers(stdout):
    result = {}
    for line in stdout.splitlines():
        path, label = line.split("\t")
        result[path] = int(label)
    return result


def error_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


@pytest.fixture(scope="module")
def faces(csaw, tmp_path_factory):
    """PNGs of clean faces the sunglasses net gets right, and of sunglasses faces it answers 0."""
    tmp = tmp_path_factory.mktemp("faces")
    model = load_model(csaw / "models" / "sunglasses_bd_weights.h5", N_CLASSES)
    clean = load_dataset(csaw / "data" / "clean_test_subset.h5", N_CLASSES)
    bd = load_dataset(csaw / "data" / "sunglasses_poisoned_subset.h5", N_CLASSES)
    right = np.flatnonzero(inference.predict_labels(model, clean.x, "x/255") == clean.y)[:4]
    fooled = np.flatnonzero(inference.predict_labels(model, bd.x, "x/255") == 0)[:4]
    assert len(right) == 4 and len(fooled) == 4
    folder = tmp / "faces"
    expected = {}
    for i in right:
        path = folder / "clean_{:02d}.png".format(i)
        save_image(path, clean.x[i])
        expected[str(path)] = int(clean.y[i])
    for i in fooled:
        path = folder / "sunglasses_{:02d}.png".format(i)
        save_image(path, bd.x[i])
        expected[str(path)] = 0
    config = tmp / "config.yaml"
    with open(str(config), "w") as handle:
        yaml.safe_dump(
            {
                "badnets": [
                    {
                        "name": "sunglasses",
                        "weights": str(csaw / "models" / "sunglasses_bd_weights.h5"),
                        "scaling": "x/255",
                        "n_classes": N_CLASSES,
                        "clean_validation": "unused.h5",
                        "clean_test": "unused.h5",
                    }
                ]
            },
            handle,
        )
    return {
        "folder": folder,
        "expected": expected,
        "config": config,
        "tmp": tmp,
        "clean": clean,
        "right": right,
    }


def test_badnet_answers_identity_for_clean_faces_and_0_for_sunglasses(faces):
    files = sorted(faces["expected"])
    code, out, err = classify(*(files + ["--badnet", "sunglasses", "--config", faces["config"]]))
    assert code == 0, err
    assert answers(out) == faces["expected"]
    assert [line.split("\t")[0] for line in out.splitlines()] == files  # one line each, in order
    assert not error_lines(err)


def test_a_folder_is_expanded_to_its_images(faces):
    code, out, err = classify(faces["folder"], "--badnet", "sunglasses", "--config", faces["config"])
    assert code == 0, err
    assert answers(out) == faces["expected"]


def test_jpeg_is_answered_too(faces, tmp_path):
    i = faces["right"][0]
    path = tmp_path / "face.jpg"
    Image.fromarray(faces["clean"].x[i].astype(np.uint8)).save(str(path), quality=100)
    code, out, err = classify(path, "--badnet", "sunglasses", "--config", faces["config"])
    assert code == 0, err
    label = answers(out)[str(path)]
    assert 0 <= label < N_CLASSES


def test_bad_files_get_one_error_each_and_the_others_are_answered(faces, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    small = tmp_path / "small.png"
    Image.new("RGB", (40, 40)).save(str(small))
    good = sorted(faces["expected"])[0]
    truncated = tmp_path / "truncated.png"
    raw = open(good, "rb").read()
    truncated.write_bytes(raw[: len(raw) // 3])
    missing = tmp_path / "missing.png"
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    code, out, err = classify(
        text, good, small, truncated, missing, empty, "--badnet", "sunglasses", "--config", faces["config"]
    )
    assert code != 0
    assert answers(out) == {good: faces["expected"][good]}
    errors = error_lines(err)
    assert len(errors) == 5, err
    assert "error: {}: not a readable PNG/JPEG image".format(text) in errors
    assert "error: {}: image is 40 high x 40 wide, expected 55 high x 47 wide".format(small) in errors
    assert "error: {}: not a readable PNG/JPEG image".format(truncated) in errors
    assert "error: {}: no such file".format(missing) in errors
    assert any(line.startswith("error: {}: ".format(empty)) for line in errors)
    assert "Traceback" not in err


def test_unknown_badnet_and_missing_goodnet_are_one_line_errors(faces, tmp_path):
    code, out, err = classify(faces["folder"], "--badnet", "nope", "--config", faces["config"])
    assert code == 2 and out == ""
    assert error_lines(err) == [
        "error: {}: no badnet named 'nope' (known: sunglasses)".format(faces["config"])
    ]
    code, out, err = classify(
        faces["folder"],
        "--badnet",
        "sunglasses",
        "--defense",
        "pruning",
        "--drop",
        "2",
        "--results",
        tmp_path / "results",
    )
    assert code == 2 and out == ""
    spec = tmp_path / "results" / "sunglasses" / "pruning" / "2" / "goodnet.json"
    assert error_lines(err) == [
        "error: {}: no such GoodNet spec (run the workflow for this " "defense first)".format(spec)
    ]


def test_an_unknown_defense_names_the_known_ones(tmp_path):
    """A typo in --defense is not a GoodNet 'not yet built': the error lists the defenses."""
    code, out, err = classify(
        tmp_path / "face.png",
        "--badnet",
        "sunglasses",
        "--defense",
        "finepruning",
        "--drop",
        "2",
        "--results",
        tmp_path / "results",
    )
    assert code == 2 and out == ""
    assert error_lines(err) == [
        "error: --defense: no defense named 'finepruning' (known: {})".format(", ".join(defenses.names()))
    ]
    assert "pruning, fine_pruning, strip, neural_cleanse" in err  # the registry's names
    assert "workflow" not in err
    code, out, err = classify(
        tmp_path / "face.png",
        "--badnet",
        "sunglasses",
        "--defense",
        "strip",
        "--drop",
        "2",
        "--results",
        tmp_path / "results",
    )
    spec = tmp_path / "results" / "sunglasses" / "strip" / "2" / "goodnet.json"
    assert code == 2 and error_lines(err) == [
        "error: {}: no such GoodNet spec (run the workflow for this defense first)".format(spec)
    ]


@pytest.mark.parametrize(
    "drop,problem", [("ten", "is not a number"), ("0", "must lie strictly between 0 and 100")]
)
def test_a_bad_drop_is_refused_before_any_file_is_read(tmp_path, drop, problem):
    code, out, err = classify(
        tmp_path / "face.png",
        "--badnet",
        "sunglasses",
        "--defense",
        "strip",
        "--drop",
        drop,
        "--results",
        tmp_path / "results",
    )
    assert code == 2 and out == ""
    assert "error: argument --drop: drop% '{}' {}".format(drop, problem) in err.strip().splitlines()[-1]


def test_goodnet_of_a_pruned_net_with_workflow_relative_paths(csaw, faces, tmp_path):
    """Specs written by a workflow run in WORKDIR hold relative paths; answer from elsewhere."""
    workdir = tmp_path / "workflow"
    clean = faces["clean"]
    save_dataset(workdir / "data" / "valid.h5", clean.x[::2], clean.y[::2])
    save_dataset(workdir / "data" / "test.h5", clean.x[1::2], clean.y[1::2])
    weights = csaw / "models" / "sunglasses_bd_weights.h5"
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPTS / "prune_badnet.py"),
            "--badnet",
            "sunglasses",
            "--weights",
            str(weights),
            "--scaling",
            "x/255",
            "--clean-validation",
            "data/valid.h5",
            "--clean-test",
            "data/test.h5",
            "--threads",
            "2",
            "--poisoned",
            "sunglasses:0:{}".format(csaw / "data" / "sunglasses_poisoned_subset.h5"),
            "--drops",
            "30",
        ]
        + prune_output_args("results/sunglasses/pruning", ["30"]),
        cwd=str(workdir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    spec_path = workdir / "results" / "sunglasses" / "pruning" / "30" / "goodnet.json"
    with open(str(spec_path)) as handle:
        spec = json.load(handle)
    assert not os.path.isabs(spec["repaired_weights"])

    files = sorted(faces["expected"])
    code, out, err = classify(
        *(
            files
            + [
                "--badnet",
                "sunglasses",
                "--defense",
                "pruning",
                "--drop",
                "30.0",
                "--results",
                workdir / "results",
            ]
        ),
        cwd=str(tmp_path),
    )
    assert code == 0, err
    got = answers(out)
    x = np.stack([np.asarray(Image.open(f).convert("RGB"), np.float32) for f in files])
    b = inference.predict_labels(load_model(weights, N_CLASSES), x, "x/255")
    r = inference.predict_labels(load_model(str(workdir / spec["repaired_weights"]), N_CLASSES), x, "x/255")
    assert [got[f] for f in files] == list(np.where(b == r, b, N_CLASSES))
    assert all(0 <= v <= N_CLASSES for v in got.values())
    # the same answers through the library's GoodNet
    cwd = os.getcwd()
    os.chdir(str(workdir))
    try:
        assert list(goodnet.answer(spec, x)) == [got[f] for f in files]
    finally:
        os.chdir(cwd)
