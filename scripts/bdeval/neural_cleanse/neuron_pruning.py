"""Neural Cleanse neuron pruning (Wang et al. 2019, section VI-B): the neurons of the layer before
the output (DeepID's `activation_1`, 160 units, the layer the input filter reads) that a flagged
label's reversed trigger excites most are switched off by zeroing their outgoing weights (their
rows of the output kernel), in order, until the clean accuracy on the held-out check part would
fall by more than drop%.

Ranking: per flagged label, the rise of each neuron's mean activation on the stamped clean tuning
images over the clean ones (bdeval.neural_cleanse.filter.select_neurons); only neurons the trigger
raises (rise > 0) are candidates. With several flagged labels their rankings are INTERLEAVED
(each label's next not yet taken neuron in turn), so that every flagged trigger loses its top
neurons early; a sum of the rises would let the trigger with the largest activations take the
whole budget.

Stopping rule: the neurons are zeroed `step` at a time; the repaired net is the one before the
first step whose check accuracy is outside the budget (bdeval.budget.within_budget, counted in
images). Zeroing a neuron's outgoing weights is zeroing its activation for the output layer, so
the curve runs on the activations of the check images, measured once, in plain NumPy
(`Curve`); the saved net is then run in full.
"""

import numpy as np

from .. import budget
from .filter import select_neurons

NOTHING_FLAGGED = "no label flagged: nothing to prune"
OUTPUT_LAYER = "output"


def excitation(clean_hidden, trigger_hidden):
    """Rise of each neuron's mean activation: stamped minus clean images, (N, U) -> (U,)."""
    return np.asarray(trigger_hidden, np.float64).mean(axis=0) - np.asarray(clean_hidden, np.float64).mean(
        axis=0
    )


def pruning_order(rises):
    """Neuron indices to prune, in order. rises: {label: (U,) excitation}; the labels' rankings
    of their excited neurons (rise > 0) interleaved, label by label in sorted order."""
    rankings = []
    for label in sorted(rises):
        rise = np.asarray(rises[label])
        ranked = select_neurons(np.zeros((1, len(rise))), rise[None, :], len(rise))
        rankings.append([n for n in ranked if rise[n] > 0])
    order, seen = [], set()
    for turn in range(max([len(r) for r in rankings] or [0])):
        for ranking in rankings:
            if turn < len(ranking) and ranking[turn] not in seen:
                seen.add(ranking[turn])
                order.append(ranking[turn])
    return order


def steps(order, step):
    """The neurons zeroed at each step: order cut into batches of `step`."""
    return [list(order[i : i + step]) for i in range(0, len(order), step)]


class Curve(object):
    """Labels after zeroing more and more hidden neurons, from activations measured once.

    hidden: (N, U) activations of the layer before the output; kernel (U, C), bias (C,) of the
    output layer. `zero(neurons)` takes the neurons' contributions off the logits; `labels()`
    answers as the net with those neurons' outgoing weights zeroed.
    """

    def __init__(self, hidden, kernel, bias):
        self.hidden = np.asarray(hidden, np.float64)
        self.kernel = np.asarray(kernel, np.float64)
        self.logits = self.hidden.dot(self.kernel) + np.asarray(bias, np.float64)

    def zero(self, neurons):
        neurons = list(neurons)
        if neurons:
            self.logits -= self.hidden[:, neurons].dot(self.kernel[neurons])

    def labels(self):
        return np.argmax(self.logits, axis=1)


def zero_outgoing(model, neurons, layer=OUTPUT_LAYER):
    """Zero the rows of `layer`'s kernel fed by `neurons` (in place); its bias stays."""
    kernel, bias = model.get_layer(layer).get_weights()
    kernel[np.asarray(list(neurons), np.int64)] = 0.0
    model.get_layer(layer).set_weights([kernel, bias])
    return model


def zeroed_neurons(kernel):
    """Neurons whose outgoing weights are all zero, in an output kernel (U, C)."""
    return [int(n) for n in np.flatnonzero(np.all(np.asarray(kernel) == 0, axis=1))]


def neurons_within_budget(correct_counts, n, drop_pct):
    """Index of the last step before the first one outside the drop% budget (every step when
    none is). correct_counts[k]: check images right after step k (k = 0: the badnet)."""
    counts = np.asarray(correct_counts)
    outside = np.flatnonzero(~budget.within_budget(counts[0], counts, n, drop_pct))
    return int(outside[0]) - 1 if outside.size else len(counts) - 1
