#!/usr/bin/env python
"""Build the embedded demo benchmark: procedural faces in the challenge's HDF5 layout.

Writes clean_train.h5, clean_validation.h5, clean_test.h5 and, for every --poison
TRIGGER:TARGET, TRIGGER_to_TARGET_test.h5 (clean test faces not of TARGET, trigger pasted
on, labelled TARGET) into --out-dir.
"""

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import demo_faces, triggers  # noqa: E402
from bdeval.cli import poison_spec  # noqa: E402
from bdeval.datasets import save_dataset  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out-dir", required=True)
    p.add_argument("--n-classes", type=int, required=True)
    p.add_argument("--train-per-class", type=int, required=True)
    p.add_argument("--valid-per-class", type=int, required=True)
    p.add_argument("--test-per-class", type=int, required=True)
    p.add_argument("--poison", type=poison_spec, action="append", default=[], metavar="TRIGGER:TARGET")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    splits = [
        ("clean_train", args.train_per_class),
        ("clean_validation", args.valid_per_class),
        ("clean_test", args.test_per_class),
    ]
    test = None
    for index, (name, per_class) in enumerate(splits):
        x, y = demo_faces.make_split(args.n_classes, per_class, args.seed, index)
        save_dataset(os.path.join(args.out_dir, name + ".h5"), x, y)
        logging.info("%s: %d images, %d identities", name, len(y), args.n_classes)
        test = (x, y)
    for trigger, target in args.poison:
        if not 0 <= target < args.n_classes:
            raise SystemExit(
                "--poison {}:{}: target outside [0, {}]".format(trigger, target, args.n_classes - 1)
            )
        keep = test[1] != target
        x = triggers.stamp(test[0][keep], trigger)
        path = os.path.join(args.out_dir, "{}_to_{}_test.h5".format(trigger, target))
        save_dataset(path, x, np.full(len(x), target))
        logging.info("%s: %d poisoned images -> label %d", os.path.basename(path), len(x), target)
    return 0


if __name__ == "__main__":
    run_cli(main)
