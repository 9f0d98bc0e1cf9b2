#!/usr/bin/env python
"""Baseline of one badnet without defense: clean accuracy and attack success rate per poisoned set."""

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval import tfcompat  # noqa: E402
from bdeval.badnet import load_badnet_model, load_eval_data  # noqa: E402
from bdeval.cli import add_badnet_args  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.inference import predict_labels  # noqa: E402
from bdeval.metrics import accuracy, attack_success_rate  # noqa: E402
from bdeval.outputs import write_json  # noqa: E402
from bdeval.rows import make_row  # noqa: E402

SCALING_WARNING = 0.5


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    add_badnet_args(parser)
    parser.add_argument("--out-json", required=True, help="baseline figures")
    parser.add_argument("--out-rows", required=True, help="summary rows (defense 'none')")
    return parser.parse_args(argv)


def evaluate(model, data, scaling, batch_size):
    result = {
        "clean_acc_valid": accuracy(
            predict_labels(model, data.clean_validation.x, scaling, batch_size), data.clean_validation.y
        ),
        "clean_acc_test": accuracy(
            predict_labels(model, data.clean_test.x, scaling, batch_size), data.clean_test.y
        ),
        "asr": {},
    }
    for p in data.poisoned:
        pred = predict_labels(model, p.data.x, scaling, batch_size)
        result["asr"][p.trigger] = attack_success_rate(pred, p.target)
        logging.info("ASR %s (target %d): %.2f %%", p.trigger, p.target, 100 * result["asr"][p.trigger])
    return result


def main(argv=None):
    args = parse_args(argv)
    tfcompat.configure(args.seed, args.threads)
    data = load_eval_data(args)
    model = load_badnet_model(args)
    result = evaluate(model, data, args.scaling, args.batch_size)
    logging.info(
        "clean accuracy: validation %.2f %%, test %.2f %%",
        100 * result["clean_acc_valid"],
        100 * result["clean_acc_test"],
    )
    if result["clean_acc_valid"] < SCALING_WARNING:
        other = "raw" if args.scaling == "x/255" else "x/255"
        logging.warning(
            "%s: clean validation accuracy %.1f %% is below 50 %%: the input scaling is "
            "probably wrong (configured '%s'; try '%s')",
            args.badnet,
            100 * result["clean_acc_valid"],
            args.scaling,
            other,
        )
    result.update(
        {
            "badnet": args.badnet,
            "weights": args.weights,
            "scaling": args.scaling,
            "n_clean_validation": len(data.clean_validation.y),
            "n_clean_test": len(data.clean_test.y),
            "n_poisoned": {p.trigger: len(p.data.y) for p in data.poisoned},
            "targets": {p.trigger: p.target for p in data.poisoned},
            "stack": tfcompat.stack_description(),
        }
    )
    row = make_row(
        args.badnet,
        "none",
        None,
        "badnet",
        clean_acc_valid=result["clean_acc_valid"],
        clean_acc_test=result["clean_acc_test"],
        asr=result["asr"],
    )
    write_json(args.out_json, result)
    write_json(args.out_rows, [row])
    return 0


if __name__ == "__main__":
    run_cli(main)
