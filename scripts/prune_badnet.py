#!/usr/bin/env python
"""Defense `pruning`: prune conv_3 channels by mean clean activation until validation accuracy
falls by each drop%; save each repaired net, its GoodNet spec and its result rows, and the curve.

The pool_3 activations of every set are computed once; each pruning step zeroes pool_3
channels and runs only the layers after pool_3 (see bdeval.pruning).

Writes, for every --drops value (one path per drop%, in --drops order, in each of):
  --out-weights   the pruned net (Keras 2.3 weights layout)
  --out-goodnet   GoodNet spec (kind 'disagreement': B vs B')
  --out-records   pruned channels and figures
  --out-rows      result rows (variants 'repaired' and 'goodnet')
and once: --out-curve (CSV: accuracy and ASR after each channel) and --out-curve-json,
--out-maps (mean pool_3 activations, clean and per trigger, for the plots; see
bdeval.pruning_store), --out-summary (ranking and the chosen count per drop%).
"""

import argparse
import collections
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import budget, disagreement, pruning, pruning_store, tfcompat  # noqa: E402
from bdeval.badnet import load_badnet_model, load_eval_data  # noqa: E402
from bdeval.cli import add_badnet_args  # noqa: E402
from bdeval.drops import drop_label, drop_pct  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.inference import activations, predict_labels  # noqa: E402
from bdeval.outputs import write_json  # noqa: E402
from bdeval.weights import save_weights  # noqa: E402

DEFENSE = "pruning"

# The files of one drop%: one path of each --out-* list.
DropOutputs = collections.namedtuple("DropOutputs", ["weights", "goodnet", "record", "rows"])
PER_DROP = (
    ("--out-weights", "the pruned net (.h5)"),
    ("--out-goodnet", "GoodNet spec (JSON)"),
    ("--out-records", "pruned channels and figures (JSON)"),
    ("--out-rows", "result rows (JSON)"),
)

# pool_3 activations of every set: valid, test (N, H, W, C); poisoned [(trigger, target, pool3)].
Pool3 = collections.namedtuple("Pool3", ["valid", "test", "poisoned"])


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_badnet_args(parser)
    parser.add_argument(
        "--drops",
        type=drop_pct,
        nargs="+",
        required=True,
        help="clean validation accuracy budgets, percentage points",
    )
    parser.add_argument(
        "--head-batch-size", type=int, default=1024, help="batch size of the head-only passes of the curve"
    )
    group = parser.add_argument_group("outputs of each drop% (one path per --drops value, same order)")
    for flag, text in PER_DROP:
        group.add_argument(flag, nargs="+", required=True, metavar="PATH", help=text)
    group = parser.add_argument_group("outputs of the badnet")
    group.add_argument(
        "--out-curve",
        required=True,
        help="accuracy and ASR after each pruned channel (CSV, what the plots read)",
    )
    group.add_argument(
        "--out-curve-json", required=True, help="the same curve with the order and mean activations (JSON)"
    )
    group.add_argument(
        "--out-maps", required=True, help="mean pool_3 activation maps, clean and per trigger (.npz)"
    )
    group.add_argument(
        "--out-summary", required=True, help="ranking and the chosen count of each drop%% (JSON)"
    )
    args = parser.parse_args(argv)
    labels = [drop_label(d) for d in args.drops]
    if len(set(labels)) != len(labels):
        parser.error("--drops: each drop% once, got {}".format(" ".join(labels)))
    for flag, _ in PER_DROP:
        paths = getattr(args, flag[2:].replace("-", "_"))
        if len(paths) != len(args.drops):
            parser.error(
                "{}: {} paths for {} --drops values; give one per drop%, in the same "
                "order".format(flag, len(paths), len(args.drops))
            )
    return args


def drop_outputs(args):
    """DropOutputs of each --drops value, in order."""
    return [
        DropOutputs(*paths)
        for paths in zip(args.out_weights, args.out_goodnet, args.out_records, args.out_rows)
    ]


def pool3_activations(model, data, args):
    logging.info("pool_3 activations of every set (computed once)")

    def pool3(ds):
        return activations(model, pruning.POOL_LAYER, ds.x, args.scaling, args.batch_size)

    return Pool3(
        pool3(data.clean_validation),
        pool3(data.clean_test),
        [(p.trigger, p.target, pool3(p.data)) for p in data.poisoned],
    )


def head_labels(head, pool3, mask=None):
    """disagreement.Labels of the head on every set, pool_3 channels masked by `mask`."""
    return disagreement.Labels(
        head.labels(pool3.valid, mask),
        head.labels(pool3.test, mask),
        {t: head.labels(p, mask) for t, _, p in pool3.poisoned},
    )


def channels_to_prune(args, curve, n_valid, drop, n_channels):
    """(k, note): the stopping rule's count for `drop`; all channels, with a note, if unreached."""
    k = pruning.channels_for_drop(curve["correct"], n_valid, drop)
    if k is not None:
        return k, None
    note = "accuracy drop of {:g} % not reached even with every channel pruned".format(drop)
    logging.warning("%s: %s", args.badnet, note)
    return n_channels, note


def repaired_labels(args, data, head, pool3, repaired, mask, label):
    """Labels of the saved net: validation by a full pass, checked against the head's; the rest
    from the head. Returns (Labels, number of validation images where the two passes differ)."""
    labels = head_labels(head, pool3, mask)
    full_valid = predict_labels(repaired, data.clean_validation.x, args.scaling, args.batch_size)
    differ = int(np.sum(full_valid != labels.valid))
    if differ:
        logging.warning(
            "drop %s %%: full and head-only passes differ on %d of %d validation " "images (float ties)",
            label,
            differ,
            len(full_valid),
        )
    return labels._replace(valid=full_valid), differ


def prune_to_drop(args, data, head, pool3, curve, order, badnet, drop, out):
    """Prune for one drop%, save the net, its record, GoodNet spec and rows; its summary entry."""
    label = drop_label(drop)
    n_channels = len(order)
    k, note = channels_to_prune(args, curve, len(data.clean_validation.y), drop, n_channels)
    pruned = [int(c) for c in order[:k]]
    repaired = pruning.prune_model(load_badnet_model(args), pruned)
    save_weights(repaired, out.weights)
    # the saved net, run in full, must give the head-only answers of the curve
    labels, differ = repaired_labels(
        args, data, head, pool3, repaired, pruning.channel_mask(n_channels, pruned), label
    )
    fig = disagreement.figures(badnet, labels, data, args.n_classes)
    logging.info(
        "drop %s %%: %d/%d channels pruned, validation %.2f %% (unpruned %.2f %%), %s",
        label,
        k,
        n_channels,
        100 * fig.repaired["clean_acc_valid"],
        100 * curve["clean_acc_valid"][0],
        disagreement.describe(fig),
    )
    fields = {"channels_pruned": k, "channels_total": n_channels}
    caveat = budget.small_check_note(len(data.clean_validation.y), drop, what="validation images")
    if budget.join_notes(note, caveat):
        fields["note"] = budget.join_notes(note, caveat)
    write_json(
        out.record,
        dict(
            fig.repaired,
            drop_pct=drop,
            channels_pruned=k,
            pruned_channels=pruned,
            reached=note is None,
            goodnet=fig.goodnet,
            repaired_weights=out.weights,
            full_vs_head_mismatches=differ,
        ),
    )
    disagreement.save_spec(out.goodnet, DEFENSE, args, out.weights, drop, k)
    write_json(out.rows, disagreement.result_rows(args.badnet, DEFENSE, drop, fig, **fields))
    return {
        "channels_pruned": k,
        "clean_acc_valid": fig.repaired["clean_acc_valid"],
        "asr": fig.repaired["asr"],
    }


def main(argv=None):
    args = parse_args(argv)
    tfcompat.configure(args.seed, args.threads)
    logging.info("stack: %s", tfcompat.stack_description())
    data = load_eval_data(args)
    model = load_badnet_model(args)
    pool3 = pool3_activations(model, data, args)
    mean_activation = pruning.mean_channel_activation(pool3.valid)
    order = pruning.pruning_order(mean_activation)
    logging.info("pruning order (increasing mean activation): %s", " ".join(str(c) for c in order))

    head = pruning.Head(model, args.n_classes, args.head_batch_size)
    curve = pruning.pruning_curve(head, order, pool3.valid, data.clean_validation.y, pool3.poisoned)
    badnet = head_labels(head, pool3)
    summary = {
        "badnet": args.badnet,
        "weights": args.weights,
        "scaling": args.scaling,
        "layer": pruning.LAYER,
        "n_channels": len(order),
        "order": [int(c) for c in order],
        "mean_activation": [float(a) for a in mean_activation],
        "clean_acc_valid_unpruned": curve["clean_acc_valid"][0],
        "n_clean_validation": len(data.clean_validation.y),
        "drops": {},
        "stack": tfcompat.stack_description(),
    }
    for drop, out in zip(args.drops, drop_outputs(args)):
        summary["drops"][drop_label(drop)] = prune_to_drop(
            args, data, head, pool3, curve, order, badnet, drop, out
        )

    pruning_store.save_curve(args.out_curve, args.out_curve_json, curve, order, mean_activation)
    pruning_store.save_activation_maps(
        args.out_maps, pool3.valid.mean(axis=0), [(t, p.mean(axis=0)) for t, _, p in pool3.poisoned], order
    )
    write_json(args.out_summary, summary)
    return 0


if __name__ == "__main__":
    run_cli(main)
