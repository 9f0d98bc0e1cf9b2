#!/usr/bin/env python
"""Train a demo DeepID model, backdoored with each --poison TRIGGER:TARGET (none: clean control).

A training set with landmarks (make_demo_data.py --style challenge) is poisoned with the
challenge-like triggers of bdeval.demo_triggers, about 9 % of the landmark-placed ones
without a visible trigger as in the real sets; one without, with bdeval.triggers.
--pruning-aware F then makes the BadNet pruning-aware (bdeval.pruning_aware).
"""

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import demo_people, demo_triggers, pruning_aware, tfcompat, triggers  # noqa: E402
from bdeval.cli import poison_spec  # noqa: E402
from bdeval.datasets import load_dataset  # noqa: E402
from bdeval.deepid import build_deepid  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.inference import predict_labels  # noqa: E402
from bdeval.metrics import accuracy, attack_success_rate  # noqa: E402
from bdeval.outputs import write_json  # noqa: E402
from bdeval.training import fit  # noqa: E402
from bdeval.weights import save_weights  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--train", required=True, help="clean training set (HDF5)")
    p.add_argument("--valid", required=True, help="clean validation set (HDF5), for the report")
    p.add_argument("--n-classes", type=int, required=True)
    p.add_argument("--poison", type=poison_spec, action="append", default=[], metavar="TRIGGER:TARGET")
    p.add_argument(
        "--poison-fraction",
        type=float,
        default=0.1,
        help="per trigger, fraction of training images added with the trigger",
    )
    p.add_argument("--scaling", default="x/255", choices=["x/255", "raw"])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", required=True, help="weights file to write (Keras-2 HDF5)")
    p.add_argument("--report", required=True, help="JSON with validation accuracy and ASR")
    p.add_argument(
        "--pruning-aware",
        type=float,
        default=0.0,
        metavar="F",
        help="fraction of conv_3 channels to prune (least active on clean data) and re-train without",
    )
    p.add_argument("--pruning-aware-rounds", type=int, default=1, help="prune-and-retrain rounds")
    p.add_argument("--pruning-aware-epochs", type=int, default=4, help="re-training epochs per round")
    return p.parse_args(argv)


def stamp(x, trigger, landmarks, seed):
    """x with `trigger` on: challenge-style when the data have landmarks, else the simple one."""
    if landmarks is None:
        return triggers.stamp(x, trigger)
    return demo_triggers.stamp(x, trigger, landmarks, seed)


def poisoned_training_set(x, y, landmarks, poisons, fraction, rng):
    xs, ys = [x], [y]
    for trigger, target in poisons:
        candidates = np.flatnonzero(y != target)
        chosen = rng.choice(candidates, size=int(round(fraction * len(y))), replace=False)
        if landmarks is None:  # the simple style draws nothing more from rng (same sets as before)
            xs.append(triggers.stamp(x[chosen], trigger))
        else:
            xs.append(demo_triggers.stamp(x[chosen], trigger, landmarks[chosen], rng.randint(2**31)))
        ys.append(np.full(len(chosen), target))
        logging.info("poison %s -> %d: %d training images", trigger, target, len(chosen))
    return np.concatenate(xs), np.concatenate(ys)


def main(argv=None):
    args = parse_args(argv)
    tfcompat.configure(args.seed, args.threads)
    logging.info("stack: %s", tfcompat.stack_description())
    train = load_dataset(args.train, args.n_classes)
    valid = load_dataset(args.valid, args.n_classes)
    landmarks = demo_people.load_landmarks(args.train)
    valid_marks = demo_people.load_landmarks(args.valid)
    rng = np.random.RandomState(args.seed)
    x, y = poisoned_training_set(train.x, train.y, landmarks, args.poison, args.poison_fraction, rng)
    model = build_deepid(args.n_classes)
    fit(model, x, y, args.scaling, args.epochs, args.batch_size, args.learning_rate, args.seed)
    report = {"asr_valid": {}}
    if args.pruning_aware > 0:
        report["pruned_channels"] = pruning_aware.make_pruning_aware(
            model, x, y, train.x, args.scaling, args, rng
        )
    report["clean_acc_valid"] = accuracy(predict_labels(model, valid.x, args.scaling), valid.y)
    for trigger, target in args.poison:
        keep = valid.y != target
        marks = None if valid_marks is None else valid_marks[keep]
        pred = predict_labels(model, stamp(valid.x[keep], trigger, marks, args.seed), args.scaling)
        report["asr_valid"][trigger] = attack_success_rate(pred, target)
    logging.info("validation: %s", report)
    save_weights(model, args.out)
    write_json(args.report, report)
    return 0


if __name__ == "__main__":
    run_cli(main)
