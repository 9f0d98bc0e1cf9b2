#!/usr/bin/env python
"""Neural Cleanse mitigation of one badnet at one drop%: the input filter built from the
reversed triggers of the flagged labels, its GoodNet spec and its result row."""

import argparse
import logging
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bdeval import tfcompat  # noqa: E402
from bdeval.badnet import load_badnet_model, load_eval_data  # noqa: E402
from bdeval.cli import add_badnet_args  # noqa: E402
from bdeval.errors import InputError, run_cli  # noqa: E402
from bdeval.goodnet import save_spec  # noqa: E402
from bdeval.metrics import accuracy, goodnet_metrics  # noqa: E402
from bdeval.neural_cleanse import filter as nc_filter, store as nc_store  # noqa: E402
from bdeval.outputs import read_json, write_json  # noqa: E402
from bdeval.rows import make_row  # noqa: E402

NOTHING_FLAGGED = "no label flagged: GoodNet = badnet"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    add_badnet_args(parser)
    parser.add_argument("--drop", type=float, required=True, help="clean-validation FRR in percent")
    parser.add_argument("--summary", required=True, help="nc.json of nc_gather.py")
    parser.add_argument("--triggers", required=True, help="triggers.npz of nc_gather.py")
    parser.add_argument(
        "--filter-neurons",
        type=float,
        default=0.05,
        help="fraction of the neurons before the output used per flagged label",
    )
    parser.add_argument("--out-spec", required=True, help="GoodNet spec (JSON)")
    parser.add_argument("--out-rows", required=True, help="summary rows (JSON)")
    return parser.parse_args(argv)


def flagged_triggers(summary_path, triggers_path):
    if not os.path.exists(summary_path):
        raise InputError(summary_path, "no such file (run the Neural Cleanse scan first)")
    summary = read_json(summary_path)
    results, _ = nc_store.load_results(triggers_path)
    by_label = {r["label"]: r for r in results}
    triggers = {}
    for label in summary["flagged"]:
        if label not in by_label:
            raise InputError(triggers_path, "no trigger for flagged label {}".format(label))
        triggers[label] = (by_label[label]["mask"], by_label[label]["pattern"])
    return summary, triggers


def main(argv=None):
    args = parse_args(argv)
    if not 0 < args.drop < 100:
        raise InputError("--drop", "must be within (0, 100), got {:g}".format(args.drop))
    tfcompat.configure(args.seed, args.threads)
    summary, triggers = flagged_triggers(args.summary, args.triggers)
    data = load_eval_data(args)
    model = load_badnet_model(args)
    spec = {
        "kind": "neural_cleanse",
        "badnet": args.badnet,
        "weights": args.weights,
        "n_classes": args.n_classes,
        "scaling": args.scaling,
        "drop_pct": args.drop,
    }
    spec.update(
        nc_filter.build_filter(
            model,
            args.scaling,
            data.clean_validation.x,
            triggers,
            args.filter_neurons,
            args.drop,
            args.batch_size,
        )
    )

    def goodnet(x):
        hidden, labels = nc_filter.hidden_and_labels(model, x, args.scaling, args.batch_size)
        flags = nc_filter.flag_inputs(hidden, spec)
        return flags, np.where(flags, args.n_classes, labels)

    valid_flags, valid_answers = goodnet(data.clean_validation.x)
    _, test_answers = goodnet(data.clean_test.x)
    poisoned = {p.trigger: (goodnet(p.data.x)[1], p.target) for p in data.poisoned}
    figures = goodnet_metrics(test_answers, data.clean_test.y, poisoned, args.n_classes)
    fields = dict(
        figures,
        clean_acc_valid=accuracy(valid_answers, data.clean_validation.y),
        frr_valid=float(valid_flags.mean()),
        nc_flagged=list(summary["flagged"]),
        nc_max_anomaly_index=summary["max_anomaly_index"],
        nc_neurons=spec["n_neurons"],
        nc_schedule=summary.get("schedule"),
    )
    if not triggers:
        fields["note"] = NOTHING_FLAGGED
        logging.info("%s: nothing flagged; the GoodNet is the badnet itself", args.badnet)
    row = make_row(args.badnet, "neural_cleanse", args.drop, "goodnet", **fields)
    logging.info(
        "%s drop %g %%: flagged %s, GoodNet clean test %.2f %%, FRR valid %.2f %%, " "detection %s",
        args.badnet,
        args.drop,
        summary["flagged"] or "nothing",
        100 * figures["clean_acc_test"],
        100 * fields["frr_valid"],
        figures["detection"],
    )
    save_spec(args.out_spec, spec)
    write_json(args.out_rows, [row])
    return 0


if __name__ == "__main__":
    run_cli(main)
