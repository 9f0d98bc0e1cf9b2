#!/usr/bin/env python
"""Defense `fine_pruning`: fine-tune a pruned net on the clean validation data, pruned channels
kept at zero; save it, its GoodNet spec (B vs the fine-pruned B') and its result rows."""
import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import disagreement, pruning, tfcompat  # noqa: E402
from bdeval.badnet import load_badnet_model, load_eval_data  # noqa: E402
from bdeval.cli import add_badnet_args  # noqa: E402
from bdeval.drops import drop_pct  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.inference import predict_labels  # noqa: E402
from bdeval.metrics import accuracy, attack_success_rate  # noqa: E402
from bdeval.outputs import write_json  # noqa: E402
from bdeval.training import fit  # noqa: E402
from bdeval.weights import load_model, read_weight_arrays, save_weights  # noqa: E402

DEFENSE = "fine_pruning"


def positive(kind):
    def parse(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError("expected a positive number, got {}".format(text))
        return value
    return parse


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_badnet_args(parser)
    parser.add_argument("--pruned-weights", required=True,
                        help="the pruned net (results/BADNET/pruning/DROP/repaired_weights.h5)")
    parser.add_argument("--drop", type=drop_pct, required=True, help="its drop%% (for the rows)")
    parser.add_argument("--epochs", type=positive(int), default=10)
    parser.add_argument("--learning-rate", type=positive(float), default=1e-3)
    parser.add_argument("--fine-tune-batch-size", type=positive(int), default=64)
    parser.add_argument("--out-weights", required=True)
    parser.add_argument("--out-goodnet", required=True, help="GoodNet spec (JSON)")
    parser.add_argument("--out-json", required=True, help="figures of this job")
    parser.add_argument("--out-rows", required=True, help="result rows (JSON)")
    return parser.parse_args(argv)


def evaluate(model, data, scaling, batch_size):
    """disagreement.Labels of every set, by a full forward pass."""
    return disagreement.Labels(
        predict_labels(model, data.clean_validation.x, scaling, batch_size),
        predict_labels(model, data.clean_test.x, scaling, batch_size),
        {p.trigger: predict_labels(model, p.data.x, scaling, batch_size) for p in data.poisoned})


def main(argv=None):
    args = parse_args(argv)
    tfcompat.configure(args.seed, args.threads)
    logging.info("stack: %s", tfcompat.stack_description())
    data = load_eval_data(args)
    pruned = pruning.zero_channels(read_weight_arrays(args.pruned_weights))
    model = load_model(args.pruned_weights, args.n_classes)
    n_channels = model.get_layer(pruning.LAYER).get_weights()[1].shape[0]
    if len(pruned) == n_channels:
        logging.warning("%s: every %s channel is pruned; only the output bias can still learn",
                        args.pruned_weights, pruning.LAYER)
    logging.info("%s: %d of %d %s channels pruned: %s", args.pruned_weights, len(pruned), n_channels,
                 pruning.LAYER, pruned)

    before = evaluate(model, data, args.scaling, args.batch_size)
    valid_y, test_y = data.clean_validation.y, data.clean_test.y
    logging.info("before fine-tuning: validation %.2f %%, test %.2f %%, ASR %s",
                 100 * accuracy(before.valid, valid_y), 100 * accuracy(before.test, test_y),
                 {p.trigger: attack_success_rate(before.poisoned[p.trigger], p.target)
                  for p in data.poisoned})
    logging.info("fine-tuning on %d clean validation images: %d epochs, learning rate %g, batch %d",
                 len(valid_y), args.epochs, args.learning_rate, args.fine_tune_batch_size)
    fit(model, data.clean_validation.x, valid_y, args.scaling, args.epochs,
        args.fine_tune_batch_size, args.learning_rate, args.seed,
        callbacks=[pruning.KeepPruned(pruned)])
    kernel, bias = model.get_layer(pruning.LAYER).get_weights()
    if pruned and (np.any(kernel[..., pruned]) or np.any(bias[pruned])):
        raise RuntimeError("pruned channels are no longer zero after fine-tuning")
    save_weights(model, args.out_weights)

    after = evaluate(model, data, args.scaling, args.batch_size)
    original = evaluate(load_badnet_model(args), data, args.scaling, args.batch_size)
    fig = disagreement.figures(original, after, data, args.n_classes)
    logging.info("after fine-tuning: validation %.2f %% (trained on), %s",
                 100 * fig.repaired["clean_acc_valid"], disagreement.describe(fig))

    k = len(pruned)
    common = {"channels_pruned": k, "channels_total": n_channels, "fine_tune_epochs": args.epochs}
    record = dict(fig.repaired, drop_pct=args.drop, pruned_channels=pruned, goodnet=fig.goodnet,
                  pruned_weights=args.pruned_weights, repaired_weights=args.out_weights,
                  epochs=args.epochs, learning_rate=args.learning_rate,
                  batch_size=args.fine_tune_batch_size,
                  before={"clean_acc_valid": accuracy(before.valid, valid_y),
                          "clean_acc_test": accuracy(before.test, test_y)},
                  stack=tfcompat.stack_description(), **common)
    write_json(args.out_json, record)
    disagreement.save_spec(args.out_goodnet, DEFENSE, args, args.out_weights, args.drop, k)
    write_json(args.out_rows, disagreement.result_rows(args.badnet, DEFENSE, args.drop, fig, **common))
    return 0


if __name__ == "__main__":
    run_cli(main)
