"""One fine-tuning routine for every repair that trains (fine-pruning, Neural Cleanse unlearning).

The clean validation set is split (bdeval.budget.tuning_check_split) into a tuning part, trained
on, and a check part, never trained on. After every epoch the check part's accuracy is measured
(the starting net, epoch 0, is a checkpoint too); training stops early when it has not come back
to its best for `patience` epochs. An unlearning on a check part too small to vouch for the
budget (bdeval.budget.small_check_note) also stops once the reversed trigger's rate has stayed at
its lowest for `patience` epochs (bdeval.budget.trigger_settled): the drift of further epochs
would go unseen. The net handed back is the best checkpoint whose check accuracy is within drop% of the badnet's (bdeval.budget.select_checkpoint). When none is, the
badnet itself is handed back (its GoodNet never disagrees: GoodNet = badnet) and the rows say
"no repair within budget" in `note`; the failed attempt's figures stay in the job's JSON.

The rows' `clean_acc_valid` is the accuracy on the check part only: a training figure never
appears as a validation one.

`RepairJob` is the shared command-line job: the badnet, its data and the split, the training,
the choice and the outputs (weights, GoodNet spec of kind 'disagreement', JSON, rows).
"""

import argparse
import collections
import logging

import numpy as np

from . import budget, disagreement, tfcompat
from .badnet import load_badnet_model, load_eval_data
from . import cli
from .cli import add_badnet_args
from .datasets import Dataset
from .drops import drop_pct
from .inference import predict_labels
from .outputs import write_json
from .training import SPARSE, compile_model, train_epoch
from .weights import save_weights

# checkpoints: dicts (epoch, check_correct, check_acc, within_budget, loss, tuning_acc and, when
# measured, trigger_rate); chosen: index of the handed-back one or None; weights: per checkpoint.
Result = collections.namedtuple("Result", ["checkpoints", "chosen", "weights"])

STARTING_NET = "no trained checkpoint beat the starting net within budget: epoch 0 handed back"


def fine_tune(
    model,
    epoch_data,
    check,
    scaling,
    base_correct,
    drop,
    epochs,
    patience,
    batch_size,
    learning_rate,
    seed,
    callbacks=(),
    trigger_rate=None,
    eval_batch_size=256,
    loss=SPARSE,
):
    """Train `model` in place epoch by epoch; every epoch is a checkpoint. Returns a Result.

    epoch_data(epoch) -> (x_raw, y) to train on in that epoch (1-based); check: Dataset of the
    check part; trigger_rate(model) -> the defender's own attack estimate (optional, lower is
    better). loss: SPARSE (epoch_data's y are labels) or SOFT (probability vectors). The model is
    left at the last epoch's weights (see `Result.weights`).
    """
    n = len(check.y)

    def checkpoint(epoch, loss=None, tuning_acc=None):
        correct = int(np.sum(predict_labels(model, check.x, scaling, eval_batch_size) == check.y))
        cp = {
            "epoch": epoch,
            "check_correct": correct,
            "check_acc": correct / float(n),
            "within_budget": bool(budget.within_budget(base_correct, correct, n, drop)),
            "loss": loss,
            "tuning_acc": tuning_acc,
        }
        if trigger_rate is not None:
            cp["trigger_rate"] = float(trigger_rate(model))
        logging.info(
            "epoch %d/%d: loss %s, tuning accuracy %s, check %d/%d (%.2f %%; badnet %d)%s, " "%s",
            epoch,
            epochs,
            "-" if loss is None else "{:.4f}".format(loss),
            "-" if tuning_acc is None else "{:.2f} %".format(100 * tuning_acc),
            correct,
            n,
            100.0 * correct / n,
            base_correct,
            (
                ""
                if trigger_rate is None
                else ", reversed-trigger rate {:.2f} %".format(100 * cp["trigger_rate"])
            ),
            "within budget" if cp["within_budget"] else "OUTSIDE budget",
        )
        return cp

    checkpoints, weights = [checkpoint(0)], [model.get_weights()]
    compile_model(model, learning_rate, loss)
    rng = np.random.RandomState(seed)
    for epoch in range(1, epochs + 1):
        x, y = epoch_data(epoch)
        loss, tuning_acc = train_epoch(model, x, y, scaling, batch_size, rng, callbacks)
        checkpoints.append(checkpoint(epoch, loss, tuning_acc))
        weights.append(model.get_weights())
        if budget.should_stop([c["check_correct"] for c in checkpoints], patience):
            logging.info(
                "early stop after epoch %d: check accuracy below its best for %d epochs", epoch, patience
            )
            break
        if (
            trigger_rate is not None
            and budget.small_check_note(n, drop) is not None
            and budget.trigger_settled([c["trigger_rate"] for c in checkpoints], patience)
        ):
            logging.info(
                "early stop after epoch %d: the reversed-trigger rate stayed at its lowest for %d "
                "epochs, and %d check images could not see the drift of more",
                epoch,
                patience,
                n,
            )
            break
    chosen = budget.select_checkpoint(checkpoints, base_correct, n, drop)
    return Result(checkpoints, chosen, weights)


# ---------------------------------------------------------------- the command-line job


def repair_parser(doc, epochs=10, learning_rate=1e-3, batch_size=64):
    """The argument parser of a repair that trains: the badnet's arguments and add_args'."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    add_badnet_args(parser)
    add_args(parser, epochs, learning_rate, batch_size)
    return parser


def add_budget_args(parser, check_help):
    """--drop and --check-fraction: the budget of every repair and the part that checks it."""
    parser.add_argument("--drop", type=drop_pct, required=True, help="the clean-accuracy budget, %%")
    parser.add_argument("--check-fraction", type=cli.fraction, default=0.2, help=check_help)


def add_args(parser, epochs=10, learning_rate=1e-3, batch_size=64):
    """Arguments of every repair job that trains (beside bdeval.cli.add_badnet_args)."""
    add_budget_args(
        parser,
        "share of the clean validation set kept out of training as the check part "
        "(early stopping, budget, clean_acc_valid)",
    )
    parser.add_argument("--epochs", type=cli.positive(int), default=epochs, help="at most this many")
    parser.add_argument("--learning-rate", type=cli.positive(float), default=learning_rate)
    parser.add_argument("--fine-tune-batch-size", type=cli.positive(int), default=batch_size)
    parser.add_argument(
        "--patience",
        type=cli.positive(int),
        default=3,
        help="stop after this many epochs below the best check accuracy",
    )
    parser.add_argument("--out-weights", required=True, help="the repaired net (Keras 2.3 layout)")
    parser.add_argument("--out-goodnet", required=True, help="GoodNet spec (JSON)")
    parser.add_argument("--out-json", required=True, help="figures of this job")
    parser.add_argument("--out-rows", required=True, help="result rows (JSON)")


def _subset(data, idx):
    return Dataset(data.x[idx], data.y[idx])


class RepairJob(object):
    """One repair of one badnet at one drop%: data, split, badnet figures, training, outputs."""

    def __init__(self, args, defense, split=True):
        """split False (a repair that trains nothing): the whole clean validation set is both the
        tuning part and the check part."""
        self.args, self.defense = args, defense
        tfcompat.configure(args.seed, args.threads)
        logging.info("stack: %s", tfcompat.stack_description())
        self.data = load_eval_data(args)
        valid = self.data.clean_validation
        if split:
            tune_idx, check_idx = budget.tuning_check_split(valid.y, args.check_fraction, args.seed)
        else:
            tune_idx = check_idx = np.arange(len(valid.y))
        self.tune, self.check = _subset(valid, tune_idx), _subset(valid, check_idx)
        # every figure of this job is taken on the check part, never on the trained-on images
        self.check_data = self.data._replace(clean_validation=self.check)
        self.badnet = load_badnet_model(args)
        self.original = self.evaluate(self.badnet)
        self.base_correct = int(np.sum(self.original.valid == self.check.y))
        logging.info(
            "clean validation: %d tuning, %d check images (%s); the badnet gets "
            "%d/%d check images right; budget %g %%",
            len(tune_idx),
            len(check_idx),
            "split with seed {}".format(args.seed) if split else "the same images: nothing is trained",
            self.base_correct,
            len(check_idx),
            args.drop,
        )

    def evaluate(self, model):
        """disagreement.Labels on the check part, the clean test set and each poisoned set."""
        a, d = self.args, self.check_data
        return disagreement.Labels(
            predict_labels(model, d.clean_validation.x, a.scaling, a.batch_size),
            predict_labels(model, d.clean_test.x, a.scaling, a.batch_size),
            {p.trigger: predict_labels(model, p.data.x, a.scaling, a.batch_size) for p in d.poisoned},
        )

    def train(self, model, epoch_data=None, callbacks=(), trigger_rate=None, loss=SPARSE):
        a = self.args
        logging.info(
            "%s: fine-tuning on %d tuning images: at most %d epochs, learning rate %g, "
            "batch %d, patience %d",
            self.defense,
            len(self.tune.y),
            a.epochs,
            a.learning_rate,
            a.fine_tune_batch_size,
            a.patience,
        )
        epoch_data = epoch_data or (lambda epoch: (self.tune.x, self.tune.y))
        return fine_tune(
            model,
            epoch_data,
            self.check,
            a.scaling,
            self.base_correct,
            a.drop,
            a.epochs,
            a.patience,
            a.fine_tune_batch_size,
            a.learning_rate,
            a.seed,
            callbacks,
            trigger_rate,
            a.batch_size,
            loss,
        )

    def _figures(self, labels):
        return disagreement.figures(self.original, labels, self.check_data, self.args.n_classes)

    def finish(self, model, result, note=None, channels_pruned=0, record_fields=None, **fields):
        """Hand back the chosen checkpoint (or the badnet) and write every output of the job.

        result None: nothing was trained (e.g. nothing to unlearn); the badnet is handed back.
        fields go into the rows and the JSON record, record_fields into the record only.
        """
        a = self.args
        record = dict(record_fields or {}, checkpoints=result.checkpoints if result else [], attempt=None)
        if result is not None and result.chosen is None:
            best = max(
                range(len(result.checkpoints)),
                key=lambda i: (result.checkpoints[i]["check_correct"], result.checkpoints[i]["epoch"]),
            )
            model.set_weights(result.weights[best])
            attempt = self._figures(self.evaluate(model))
            record["attempt"] = dict(attempt.repaired, epoch=result.checkpoints[best]["epoch"])
            note = budget.no_repair_note(
                result.checkpoints[best], self.base_correct, len(self.check.y), a.drop
            )
            logging.warning("%s", note)
            logging.info("the attempt, not handed back: %s", disagreement.describe(attempt))
        if result is None or result.chosen is None:
            model.set_weights(self.badnet.get_weights())
            chosen_epoch = None
            after = self.original
        else:
            model.set_weights(result.weights[result.chosen])
            chosen_epoch = result.checkpoints[result.chosen]["epoch"]
            after = self.evaluate(model)
            logging.info("handed back: the checkpoint of epoch %d", chosen_epoch)
            if chosen_epoch == 0 and len(result.checkpoints) > 1:
                note = note or STARTING_NET
        save_weights(model, a.out_weights)
        fig = self._figures(after)
        logging.info(
            "%s drop %g %%: check %.2f %%, %s",
            self.defense,
            a.drop,
            100 * fig.repaired["clean_acc_valid"],
            disagreement.describe(fig),
        )
        common = dict(
            fields,
            channels_pruned=channels_pruned,
            check_images=len(self.check.y),
            tuning_images=len(self.tune.y),
            fine_tune_epochs=a.epochs,
            epochs_run=max([c["epoch"] for c in record["checkpoints"]] or [0]),
            best_epoch=chosen_epoch,
            within_budget=bool(chosen_epoch is not None),
        )
        note = budget.join_notes(note, budget.small_check_note(len(self.check.y), a.drop))
        if note:
            common["note"] = note
        record.update(
            fig.repaired,
            drop_pct=a.drop,
            goodnet=fig.goodnet,
            badnet_check_correct=self.base_correct,
            repaired_weights=a.out_weights,
            learning_rate=a.learning_rate,
            batch_size=a.fine_tune_batch_size,
            check_fraction=a.check_fraction,
            patience=a.patience,
            stack=tfcompat.stack_description(),
            **common,
        )
        write_json(a.out_json, record)
        disagreement.save_spec(a.out_goodnet, self.defense, a, a.out_weights, a.drop, channels_pruned)
        write_json(a.out_rows, disagreement.result_rows(a.badnet, self.defense, a.drop, fig, **common))
        return record
