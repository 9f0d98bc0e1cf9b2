"""Snakemake runs of the real sunglasses net on the shared clean subset, split 30 / 30."""

import csv

import yaml

from conftest import run_snakemake  # noqa: F401  (re-exported for the workflow tests)

from bdeval.datasets import load_dataset, save_dataset


def write_config(workdir, config):
    with open(str(workdir / "config.yaml"), "w") as handle:
        yaml.safe_dump(config, handle)


def real_sunglasses_config(csaw, workdir, **settings):
    """Write data/valid.h5 and data/test.h5 (even / odd clean faces) into workdir; return a
    config with the real sunglasses badnet on them, updated with `settings`."""
    clean = load_dataset(csaw / "data" / "clean_test_subset.h5", 1283)
    save_dataset(workdir / "data" / "valid.h5", clean.x[::2], clean.y[::2])
    save_dataset(workdir / "data" / "test.h5", clean.x[1::2], clean.y[1::2])
    config = {
        "badnets": [
            {
                "name": "sunglasses",
                "weights": str(csaw / "models" / "sunglasses_bd_weights.h5"),
                "scaling": "x/255",
                "n_classes": 1283,
                "clean_validation": "data/valid.h5",
                "clean_test": "data/test.h5",
                "poisoned": [
                    {
                        "trigger": "sunglasses",
                        "target": 0,
                        "file": str(csaw / "data" / "sunglasses_poisoned_subset.h5"),
                    }
                ],
            }
        ]
    }
    config.update(settings)
    return config, clean


def read_summary(workdir):
    """The rows of results/summary_wide.csv (one per badnet x defense x drop% x variant)."""
    with open(str(workdir / "results" / "summary_wide.csv")) as handle:
        return list(csv.DictReader(handle))
