#!/usr/bin/env python
"""Defense `pruning`: prune conv_3 channels by mean clean activation until validation accuracy
falls by each drop%; save each repaired net, its GoodNet spec and its result rows, and the curve.

The pool_3 activations of every set are computed once; each pruning step zeroes pool_3
channels and runs only the layers after pool_3 (see bdeval.pruning).

Writes, for every --drops value D (label "{:g}"):
  OUT_DIR/D/repaired_weights.h5   the pruned net (Keras 2.3 weights layout)
  OUT_DIR/D/goodnet.json          GoodNet spec (kind 'disagreement': B vs B')
  OUT_DIR/D/pruning.json          pruned channels and figures
  OUT_DIR/D/rows.json             result rows (variants 'repaired' and 'goodnet')
and OUT_DIR/curve.csv (accuracy and ASR after each channel), OUT_DIR/curve.json,
OUT_DIR/activation_maps.npz (mean pool_3 activations, clean and per trigger, for the plots),
OUT_DIR/pruning.json (ranking and the chosen count per drop%).
"""
import argparse
import csv
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import goodnet, pruning, tfcompat  # noqa: E402
from bdeval.badnet import load_badnet_model, load_eval_data  # noqa: E402
from bdeval.cli import add_badnet_args  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.inference import activations, predict_labels  # noqa: E402
from bdeval.metrics import accuracy, goodnet_metrics  # noqa: E402
from bdeval.outputs import atomic_path, write_json  # noqa: E402
from bdeval.rows import make_row  # noqa: E402
from bdeval.weights import save_weights  # noqa: E402

DEFENSE = "pruning"


def drop_label(drop):
    return "{:g}".format(drop)


def drop_pct(text):
    value = float(text)
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError("drop% must be in (0, 100), got {}".format(text))
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_badnet_args(parser)
    parser.add_argument("--drops", type=drop_pct, nargs="+", required=True,
                        help="clean validation accuracy budgets, percentage points")
    parser.add_argument("--head-batch-size", type=int, default=1024,
                        help="batch size of the head-only passes of the curve")
    parser.add_argument("--out-dir", required=True, help="results/BADNET/pruning")
    return parser.parse_args(argv)


def write_curve_csv(path, curve, mean_activation, n_channels):
    triggers = sorted(curve["asr"])
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["channels_pruned", "fraction_pruned", "channel", "mean_activation",
                             "clean_acc_valid"] + ["asr:" + t for t in triggers])
            for k, channel in enumerate(curve["channel"]):
                writer.writerow([k, "{:.6g}".format(k / float(n_channels)),
                                 "" if channel is None else channel,
                                 "" if channel is None else "{:.6g}".format(mean_activation[channel]),
                                 "{:.6g}".format(curve["clean_acc_valid"][k])]
                                + ["{:.6g}".format(curve["asr"][t][k]) for t in triggers])


def write_activation_maps(path, clean_pool3, poisoned, order):
    arrays = {"clean": clean_pool3.mean(axis=0), "order": np.asarray(order)}
    for trigger, _, pool3 in poisoned:
        arrays["poisoned_" + trigger] = pool3.mean(axis=0)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


def main(argv=None):
    args = parse_args(argv)
    tfcompat.configure(args.seed, args.threads)
    logging.info("stack: %s", tfcompat.stack_description())
    data = load_eval_data(args)
    model = load_badnet_model(args)
    n = args.n_classes

    logging.info("pool_3 activations of every set (computed once)")
    pool3 = {name: activations(model, pruning.POOL_LAYER, ds.x, args.scaling, args.batch_size)
             for name, ds in (("valid", data.clean_validation), ("test", data.clean_test))}
    poisoned = [(p.trigger, p.target,
                 activations(model, pruning.POOL_LAYER, p.data.x, args.scaling, args.batch_size))
                for p in data.poisoned]
    mean_activation = pruning.mean_channel_activation(pool3["valid"])
    order = pruning.pruning_order(mean_activation)
    n_channels = len(order)
    logging.info("pruning order (increasing mean activation): %s", " ".join(str(c) for c in order))

    head = pruning.Head(model, n, args.head_batch_size)
    valid_y, test_y = data.clean_validation.y, data.clean_test.y
    n_valid = len(valid_y)
    curve = pruning.pruning_curve(head, order, pool3["valid"], valid_y, poisoned)
    base_acc = curve["clean_acc_valid"][0]

    badnet_test = head.labels(pool3["test"])
    badnet_valid = head.labels(pool3["valid"])
    badnet_poisoned = {t: head.labels(p) for t, _, p in poisoned}

    summary = {"badnet": args.badnet, "weights": args.weights, "scaling": args.scaling,
               "layer": pruning.LAYER, "n_channels": n_channels, "order": [int(c) for c in order],
               "mean_activation": [float(a) for a in mean_activation],
               "clean_acc_valid_unpruned": base_acc, "n_clean_validation": n_valid, "drops": {},
               "stack": tfcompat.stack_description()}
    for drop in args.drops:
        label = drop_label(drop)
        out = os.path.join(args.out_dir, label)
        k = pruning.channels_for_drop(curve["correct"], n_valid, drop)
        note = None
        if k is None:
            k = n_channels
            note = "accuracy drop of {:g} % not reached even with every channel pruned".format(drop)
            logging.warning("%s: %s", args.badnet, note)
        pruned = [int(c) for c in order[:k]]
        mask = pruning.channel_mask(n_channels, pruned)
        repaired = pruning.prune_model(load_badnet_model(args), pruned)
        weights_path = os.path.join(out, "repaired_weights.h5")
        save_weights(repaired, weights_path)

        # the saved net, run in full, must give the head-only answers of the curve
        full_valid = predict_labels(repaired, data.clean_validation.x, args.scaling, args.batch_size)
        head_valid = head.labels(pool3["valid"], mask)
        differ = int(np.sum(full_valid != head_valid))
        if differ:
            logging.warning("drop %s %%: full and head-only passes differ on %d of %d validation "
                            "images (float ties)", label, differ, n_valid)
        repaired_test = head.labels(pool3["test"], mask)
        repaired_poisoned = {t: head.labels(p, mask) for t, _, p in poisoned}
        figures = {
            "clean_acc_valid": accuracy(full_valid, valid_y),
            "clean_acc_test": accuracy(repaired_test, test_y),
            "asr": {t: curve["asr"][t][k] for t, _, _ in poisoned},
        }
        good_valid = goodnet.disagreement(badnet_valid, full_valid, n)
        good = goodnet_metrics(
            goodnet.disagreement(badnet_test, repaired_test, n), test_y,
            {t: (goodnet.disagreement(badnet_poisoned[t], repaired_poisoned[t], n), target)
             for t, target, _ in poisoned}, n)
        logging.info("drop %s %%: %d/%d channels pruned, validation %.2f %% (unpruned %.2f %%), "
                     "test %.2f %%, ASR %s; GoodNet test %.2f %%, detection %s", label, k,
                     n_channels, 100 * figures["clean_acc_valid"], 100 * base_acc,
                     100 * figures["clean_acc_test"], figures["asr"], 100 * good["clean_acc_test"],
                     good["detection"])

        extra = {"note": note} if note else {}
        rows = [
            make_row(args.badnet, DEFENSE, drop, "repaired", clean_acc_valid=figures["clean_acc_valid"],
                     clean_acc_test=figures["clean_acc_test"], asr=figures["asr"],
                     channels_pruned=k, channels_total=n_channels, **extra),
            make_row(args.badnet, DEFENSE, drop, "goodnet",
                     clean_acc_valid=accuracy(good_valid, valid_y),
                     clean_acc_test=good["clean_acc_test"], asr=good["asr"],
                     detection=good["detection"], false_alarm_clean=good["false_alarm_clean"],
                     channels_pruned=k, channels_total=n_channels, **extra),
        ]
        record = dict(figures, drop_pct=drop, channels_pruned=k, pruned_channels=pruned,
                      reached=note is None, goodnet=good, repaired_weights=weights_path,
                      full_vs_head_mismatches=differ)
        write_json(os.path.join(out, "pruning.json"), record)
        goodnet.save_spec(os.path.join(out, "goodnet.json"), {
            "kind": "disagreement", "defense": DEFENSE, "badnet": args.badnet,
            "weights": args.weights, "repaired_weights": weights_path, "n_classes": n,
            "scaling": args.scaling, "drop_pct": drop, "channels_pruned": k})
        write_json(os.path.join(out, "rows.json"), rows)
        summary["drops"][label] = {"channels_pruned": k, "clean_acc_valid": figures["clean_acc_valid"],
                                   "asr": figures["asr"]}

    curve_record = dict(curve, order=summary["order"], mean_activation=summary["mean_activation"])
    write_json(os.path.join(args.out_dir, "curve.json"), curve_record)
    write_curve_csv(os.path.join(args.out_dir, "curve.csv"), curve, mean_activation, n_channels)
    write_activation_maps(os.path.join(args.out_dir, "activation_maps.npz"), pool3["valid"],
                          poisoned, order)
    write_json(os.path.join(args.out_dir, "pruning.json"), summary)
    return 0


if __name__ == "__main__":
    run_cli(main)
