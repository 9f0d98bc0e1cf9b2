"""The GoodNet of kind 'disagreement', built by pruning and fine-pruning.

The badnet B and its repaired copy B' both answer; where they agree the GoodNet answers their
label, where they disagree it answers N (poisoned). Each defense hands over the labels of B
and of B' on every set of the badnet's evaluation data (bdeval.badnet.EvalData) and gets back
the figures of B' and of the GoodNet, the two result rows (variants 'repaired' and 'goodnet')
and the GoodNet spec.
"""

import collections

from . import goodnet
from .metrics import accuracy, attack_success_rate, goodnet_metrics
from .rows import make_row

KIND = "disagreement"

# The labels one net gives: clean validation, clean test, {trigger: labels} of each poisoned set.
Labels = collections.namedtuple("Labels", ["valid", "test", "poisoned"])

# repaired: B' (clean_acc_valid, clean_acc_test, asr {trigger}); goodnet: the GoodNet on the
# clean test and poisoned sets (bdeval.metrics.goodnet_metrics); goodnet_clean_acc_valid: the
# GoodNet's clean accuracy on the validation set.
Figures = collections.namedtuple("Figures", ["repaired", "goodnet", "goodnet_clean_acc_valid"])


def figures(badnet, repaired, data, n_classes):
    """Figures of B' and of the GoodNet, from the Labels of B and of B' on `data`."""

    def answers(b, r):
        return goodnet.disagreement(b, r, n_classes)

    valid_y, test_y = data.clean_validation.y, data.clean_test.y
    own = {
        "clean_acc_valid": accuracy(repaired.valid, valid_y),
        "clean_acc_test": accuracy(repaired.test, test_y),
        "asr": {
            p.trigger: attack_success_rate(repaired.poisoned[p.trigger], p.target) for p in data.poisoned
        },
    }
    good = goodnet_metrics(
        answers(badnet.test, repaired.test),
        test_y,
        {
            p.trigger: (answers(badnet.poisoned[p.trigger], repaired.poisoned[p.trigger]), p.target)
            for p in data.poisoned
        },
        n_classes,
    )
    return Figures(own, good, accuracy(answers(badnet.valid, repaired.valid), valid_y))


def describe(fig):
    """'test T %, ASR {...}; GoodNet test G %, detection {...}' for the log."""
    return "test {:.2f} %, ASR {}; GoodNet test {:.2f} %, detection {}".format(
        100 * fig.repaired["clean_acc_test"],
        fig.repaired["asr"],
        100 * fig.goodnet["clean_acc_test"],
        fig.goodnet["detection"],
    )


def result_rows(badnet_name, defense, drop, fig, **fields):
    """The rows of variants 'repaired' (B') and 'goodnet' (B vs B'), both with `fields`."""
    own, good = fig.repaired, fig.goodnet
    return [
        make_row(
            badnet_name,
            defense,
            drop,
            "repaired",
            clean_acc_valid=own["clean_acc_valid"],
            clean_acc_test=own["clean_acc_test"],
            asr=own["asr"],
            **fields,
        ),
        make_row(
            badnet_name,
            defense,
            drop,
            "goodnet",
            clean_acc_valid=fig.goodnet_clean_acc_valid,
            clean_acc_test=good["clean_acc_test"],
            asr=good["asr"],
            detection=good["detection"],
            false_alarm_clean=good["false_alarm_clean"],
            **fields,
        ),
    ]


def save_spec(path, defense, badnet_args, repaired_weights, drop, channels_pruned):
    """The GoodNet spec; badnet_args: the bdeval.cli.add_badnet_args arguments of B."""
    goodnet.save_spec(
        path,
        {
            "kind": KIND,
            "defense": defense,
            "badnet": badnet_args.badnet,
            "weights": badnet_args.weights,
            "repaired_weights": repaired_weights,
            "n_classes": badnet_args.n_classes,
            "scaling": badnet_args.scaling,
            "drop_pct": drop,
            "channels_pruned": channels_pruned,
        },
    )
