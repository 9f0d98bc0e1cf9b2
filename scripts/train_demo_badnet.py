#!/usr/bin/env python
"""Train a demo DeepID model, backdoored with each --poison TRIGGER:TARGET (none: clean control)."""

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import tfcompat, triggers  # noqa: E402
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
    return p.parse_args(argv)


def poisoned_training_set(x, y, poisons, fraction, rng):
    xs, ys = [x], [y]
    for trigger, target in poisons:
        candidates = np.flatnonzero(y != target)
        chosen = rng.choice(candidates, size=int(round(fraction * len(y))), replace=False)
        xs.append(triggers.stamp(x[chosen], trigger))
        ys.append(np.full(len(chosen), target))
        logging.info("poison %s -> %d: %d training images", trigger, target, len(chosen))
    return np.concatenate(xs), np.concatenate(ys)


def main(argv=None):
    args = parse_args(argv)
    tfcompat.configure(args.seed, args.threads)
    logging.info("stack: %s", tfcompat.stack_description())
    train = load_dataset(args.train, args.n_classes)
    valid = load_dataset(args.valid, args.n_classes)
    rng = np.random.RandomState(args.seed)
    x, y = poisoned_training_set(train.x, train.y, args.poison, args.poison_fraction, rng)
    model = build_deepid(args.n_classes)
    fit(model, x, y, args.scaling, args.epochs, args.batch_size, args.learning_rate, args.seed)
    report = {
        "clean_acc_valid": accuracy(predict_labels(model, valid.x, args.scaling), valid.y),
        "asr_valid": {},
    }
    for trigger, target in args.poison:
        keep = valid.y != target
        pred = predict_labels(model, triggers.stamp(valid.x[keep], trigger), args.scaling)
        report["asr_valid"][trigger] = attack_success_rate(pred, target)
    logging.info("validation: %s", report)
    save_weights(model, args.out)
    write_json(args.report, report)
    return 0


if __name__ == "__main__":
    run_cli(main)
