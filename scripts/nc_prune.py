#!/usr/bin/env python
"""Defense `nc_pruning`: Neural Cleanse neuron pruning of one badnet at one drop%. The neurons
before the output that the flagged labels' reversed triggers excite most (on the clean
validation images) get their outgoing weights zeroed, in order, until the accuracy on the clean
validation images would fall by more than drop% (bdeval.neural_cleanse.neuron_pruning); saves
the pruned net, its GoodNet spec (B vs B') and its result rows.

Nothing is trained, so, as conv_3 pruning, the whole validation set ranks the neurons and holds
the budget: no tuning/check split, whose small check part (6 of the 30 shared real faces) let
a 20-point loss of clean test accuracy go unseen on the real multi-target net."""

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import budget, cli, disagreement, finetune, tfcompat  # noqa: E402
from bdeval.cli import add_badnet_args  # noqa: E402
from bdeval.drops import drop_pct  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.neural_cleanse import neuron_pruning as npr  # noqa: E402
from bdeval.neural_cleanse import unlearning  # noqa: E402
from bdeval.neural_cleanse.filter import hidden_and_labels, stamp  # noqa: E402
from bdeval.outputs import write_json  # noqa: E402
from bdeval.weights import load_model, save_weights  # noqa: E402

DEFENSE = "nc_pruning"
OUTPUTS = (
    ("--out-weights", "the pruned net (Keras 2.3 layout)"),
    ("--out-goodnet", "GoodNet spec (JSON)"),
    ("--out-json", "figures of this job (JSON)"),
    ("--out-rows", "result rows (JSON)"),
)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_badnet_args(parser)
    parser.add_argument("--summary", required=True, help="nc.json of the scan (its `flagged`)")
    parser.add_argument("--triggers", required=True, help="triggers.npz of the scan")
    parser.add_argument("--drop", type=drop_pct, required=True, help="the clean-accuracy budget, %%")
    parser.add_argument(
        "--step",
        type=cli.positive(int),
        default=1,
        help="neurons zeroed per pruning step (the budget is checked, and the "
        "progress logged, after each step)",
    )
    for flag, text in OUTPUTS:
        parser.add_argument(flag, required=True, help=text)
    return parser.parse_args(argv)


def hidden(job, x_raw):
    return hidden_and_labels(job.badnet, x_raw, job.args.scaling, job.args.batch_size)[0]


def ranking(job, triggers):
    """The pruning order: neurons the reversed triggers excite on the clean validation images."""
    clean = hidden(job, job.tune.x)
    rises = {
        label: npr.excitation(clean, hidden(job, stamp(job.tune.x, *triggers[label])))
        for label in sorted(triggers)
    }
    for label, rise in sorted(rises.items()):
        top = np.argsort(-rise, kind="stable")[:5]
        logging.info(
            "label %d: %d of %d neurons excited by its reversed trigger; most: %s",
            label,
            int(np.sum(rise > 0)),
            len(rise),
            ", ".join("{} (+{:.3f})".format(int(n), rise[n]) for n in top),
        )
    return npr.pruning_order(rises)


def walk(job, order, triggers):
    """Zero the ranked neurons step by step on the validation images until the budget breaks.
    Returns (the neurons within budget, the steps' figures)."""
    a, check = job.args, job.check
    kernel, bias = job.badnet.get_layer(npr.OUTPUT_LAYER).get_weights()
    clean = npr.Curve(hidden(job, check.x), kernel, bias)
    stamped = {
        label: npr.Curve(hidden(job, stamp(check.x[check.y != label], *triggers[label])), kernel, bias)
        for label in sorted(triggers)
        if np.any(check.y != label)
    }
    n, batches, history = len(check.y), npr.steps(order, a.step), []
    for k in range(len(batches) + 1):
        for curve in [clean] + list(stamped.values()):
            curve.zero(batches[k - 1] if k else [])
        correct = int(np.sum(clean.labels() == check.y))
        rate = max([float(np.mean(c.labels() == label)) for label, c in stamped.items()] or [0.0])
        within = bool(budget.within_budget(job.base_correct, correct, n, a.drop))
        history.append(
            {
                "neurons": sum(len(b) for b in batches[:k]),
                "check_correct": correct,
                "trigger_rate": rate,
                "within_budget": within,
            }
        )
        logging.info(
            "pruned %d/%d neurons (this step: %s): check %d/%d (badnet %d), reversed-trigger "
            "rate %.2f %%, %s",
            history[-1]["neurons"],
            len(order),
            batches[k - 1] if k else "-",
            correct,
            n,
            job.base_correct,
            100 * rate,
            "within budget" if within else "OUTSIDE budget: stop",
        )
        if not within:
            break
    counts = [job.base_correct] + [h["check_correct"] for h in history[1:]]
    last = npr.neurons_within_budget(counts, n, a.drop)
    return list(order[: history[last]["neurons"]]), history[: last + 1], history


def pruned_net(job, model, pruned):
    """The badnet with `pruned` zeroed, run in full; if float ties put it outside the budget,
    one neuron fewer, until it is within. Returns (neurons, Labels)."""
    n = len(job.check.y)
    while True:
        model.set_weights(job.badnet.get_weights())
        after = job.evaluate(npr.zero_outgoing(model, pruned))
        correct = int(np.sum(after.valid == job.check.y))
        if not pruned or budget.within_budget(job.base_correct, correct, n, job.args.drop):
            return pruned, after
        logging.warning(
            "full pass: %d/%d check images right with %d neurons pruned, outside the "
            "budget (float ties); one neuron fewer",
            correct,
            n,
            len(pruned),
        )
        pruned = pruned[:-1]


def main(argv=None):
    args = parse_args(argv)
    flagged, triggers = unlearning.flagged_triggers(args.summary, args.triggers)
    job = finetune.RepairJob(args, DEFENSE, split=False)
    model = load_model(args.weights, args.n_classes)
    order, pruned, kept, history, note = [], [], [], [], None
    if flagged:
        order = ranking(job, triggers)
        logging.info(
            "%s: pruning order of label(s) %s (interleaved): %s",
            args.badnet,
            flagged,
            " ".join(str(n) for n in order),
        )
        pruned, kept, history = walk(job, order, triggers)
    else:
        note = npr.NOTHING_FLAGGED
        logging.info("%s: %s; the GoodNet is the badnet itself", args.badnet, note)
    pruned, after = pruned_net(job, model, pruned)
    save_weights(model, args.out_weights)
    fig = disagreement.figures(job.original, after, job.check_data, args.n_classes)
    width = model.get_layer(npr.OUTPUT_LAYER).get_weights()[0].shape[0]
    common = {
        "nc_flagged": flagged,
        "neurons_pruned": len(pruned),
        "neurons_total": width,
        "neurons_excited": len(order),
        "check_images": len(job.check.y),
        "tuning_images": len(job.tune.y),
        "check_trigger_rate": kept[-1]["trigger_rate"] if kept else None,
    }
    note = budget.join_notes(note, budget.small_check_note(len(job.check.y), args.drop))
    if note:
        common["note"] = note
    logging.info(
        "%s drop %g %%: %d neurons pruned, check %.2f %%, %s",
        DEFENSE,
        args.drop,
        len(pruned),
        100 * fig.repaired["clean_acc_valid"],
        disagreement.describe(fig),
    )
    write_json(
        args.out_json,
        dict(
            fig.repaired,
            drop_pct=args.drop,
            goodnet=fig.goodnet,
            pruned_neurons=pruned,
            order=order,
            steps=history,
            step=args.step,
            badnet_check_correct=job.base_correct,
            repaired_weights=args.out_weights,
            stack=tfcompat.stack_description(),
            **common,
        ),
    )
    disagreement.save_spec(args.out_goodnet, DEFENSE, args, args.out_weights, args.drop, len(pruned))
    write_json(args.out_rows, disagreement.result_rows(args.badnet, DEFENSE, args.drop, fig, **common))
    return 0


if __name__ == "__main__":
    run_cli(main)
