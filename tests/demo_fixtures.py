"""A SMALL demo benchmark for tests, built once per session by the real scripts into a tmp dir.

A fixture of every test module (tests/conftest.py registers this file), used as:
    small_demo.weights("single")      # trains the model on first use (a few seconds), cached
    small_demo.badnet_args("single")  # the --badnet ... arguments of the evaluation scripts
Python 3.7 syntax only: the suite also runs on the legacy TF 1.15 stack.
"""

import pytest

from conftest import SCRIPTS, run_python

# 8 identities, few faces: data in ~2 s, one model in ~10-20 s on 2 cores
SMALL = {
    "n_classes": 8,
    "seed": 3,
    "train_per_class": 60,
    "valid_per_class": 25,
    "test_per_class": 25,
    "epochs": 6,
    "batch_size": 32,
    "learning_rate": 0.002,
    "poison_fraction": 0.15,
}
# model name: [(trigger, target)]
MODELS = {
    "single": [("sunglasses", 0)],
    "multi": [("lipstick", 1), ("eyebrows", 5), ("sunglasses", 6)],
    "clean": [],
}


def _run(args):
    proc = run_python(args, merge=True)
    if proc.returncode != 0:
        raise AssertionError("{} failed:\n{}".format(args[0], proc.stdout[-3000:]))
    return proc.stdout


class SmallDemo(object):
    def __init__(self, root):
        self.root = root
        self.data = root / "data"
        self.n_classes = SMALL["n_classes"]
        self.clean_validation = self.data / "clean_validation.h5"
        self.clean_test = self.data / "clean_test.h5"
        self.clean_train = self.data / "clean_train.h5"
        pairs = sorted({p for poison in MODELS.values() for p in poison})
        args = [
            SCRIPTS / "make_demo_data.py",
            "--out-dir",
            self.data,
            "--n-classes",
            self.n_classes,
            "--seed",
            SMALL["seed"],
            "--train-per-class",
            SMALL["train_per_class"],
            "--valid-per-class",
            SMALL["valid_per_class"],
            "--test-per-class",
            SMALL["test_per_class"],
        ]
        for trigger, target in pairs:
            args += ["--poison", "{}:{}".format(trigger, target)]
        _run(args)

    def poisoned(self, name):
        """[(trigger, target, path)] of a model's poisoned test sets."""
        return [(t, y, self.data / "{}_to_{}_test.h5".format(t, y)) for t, y in MODELS[name]]

    def weights(self, name):
        path = self.root / "models" / "{}_bd_weights.h5".format(name)
        if not path.exists():
            args = [
                SCRIPTS / "train_demo_badnet.py",
                "--train",
                self.clean_train,
                "--valid",
                self.clean_validation,
                "--n-classes",
                self.n_classes,
                "--poison-fraction",
                SMALL["poison_fraction"],
                "--epochs",
                SMALL["epochs"],
                "--batch-size",
                SMALL["batch_size"],
                "--learning-rate",
                SMALL["learning_rate"],
                "--seed",
                SMALL["seed"],
                "--threads",
                2,
                "--out",
                path,
                "--report",
                self.root / "models" / "{}_training.json".format(name),
            ]
            for trigger, target in MODELS[name]:
                args += ["--poison", "{}:{}".format(trigger, target)]
            _run(args)
        return path

    def badnet_args(self, name):
        args = [
            "--badnet",
            "small_" + name,
            "--weights",
            str(self.weights(name)),
            "--n-classes",
            str(self.n_classes),
            "--scaling",
            "x/255",
            "--clean-validation",
            str(self.clean_validation),
            "--clean-test",
            str(self.clean_test),
        ]
        for trigger, target, path in self.poisoned(name):
            args += ["--poisoned", "{}:{}:{}".format(trigger, target, path)]
        return args


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory):
    return SmallDemo(tmp_path_factory.mktemp("small_demo"))
