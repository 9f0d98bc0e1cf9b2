#!/usr/bin/env python
"""Build the embedded demo benchmark: procedural faces in the challenge's HDF5 layout.

Writes clean_train.h5, clean_validation.h5, clean_test.h5 and, for every --poison
TRIGGER:TARGET, TRIGGER_to_TARGET_test.h5 (clean test faces not of TARGET, trigger pasted
on, labelled TARGET) into --out-dir. --style challenge (the workflow's default) draws varied
faces with landmarks (bdeval.demo_people) and the challenge-like triggers
(bdeval.demo_triggers); --style simple, the small easy faces and fixed triggers of the unit
tests (bdeval.demo_faces, bdeval.triggers).
"""

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import demo_faces, demo_people, demo_triggers, triggers  # noqa: E402
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
    p.add_argument("--style", choices=["simple", "challenge"], default="simple")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def make_split(args, per_class, index):
    """(x, y, landmarks or None) of one split."""
    if args.style == "challenge":
        return demo_people.make_split(args.n_classes, per_class, args.seed, index)
    x, y = demo_faces.make_split(args.n_classes, per_class, args.seed, index)
    return x, y, None


def poisoned_test(args, test, trigger, target):
    """The test faces not of `target` with `trigger` on, and how many carry no visible trigger."""
    x, y, marks = test
    keep = y != target
    if args.style == "simple":
        return triggers.stamp(x[keep], trigger), 0
    if trigger not in demo_triggers.TRIGGERS:
        raise SystemExit("--poison {}:{}: unknown challenge-style trigger".format(trigger, target))
    seed = args.seed * 1000 + target
    stamped = demo_triggers.stamp(x[keep], trigger, marks[keep], seed)
    return stamped, int(np.sum(demo_triggers.missed(trigger, int(np.sum(keep)), seed)))


def main(argv=None):
    args = parse_args(argv)
    splits = [
        ("clean_train", args.train_per_class),
        ("clean_validation", args.valid_per_class),
        ("clean_test", args.test_per_class),
    ]
    for trigger, target in args.poison:
        if not 0 <= target < args.n_classes:
            raise SystemExit(
                "--poison {}:{}: target outside [0, {}]".format(trigger, target, args.n_classes - 1)
            )
    test = None
    for index, (name, per_class) in enumerate(splits):
        test = make_split(args, per_class, index)
        path = os.path.join(args.out_dir, name + ".h5")
        save_dataset(path, test[0], test[1])
        if test[2] is not None:
            demo_people.save_landmarks(path, test[2])
        logging.info(
            "%s: %d images, %d identities (%s style)", name, len(test[1]), args.n_classes, args.style
        )
    for trigger, target in args.poison:
        x, n_missed = poisoned_test(args, test, trigger, target)
        path = os.path.join(args.out_dir, "{}_to_{}_test.h5".format(trigger, target))
        save_dataset(path, x, np.full(len(x), target))
        logging.info(
            "%s: %d poisoned images -> label %d (%d without a visible trigger)",
            os.path.basename(path),
            len(x),
            target,
            n_missed,
        )
    return 0


if __name__ == "__main__":
    run_cli(main)
