"""Pruning of conv_3 channels by mean activation (Liu et al., "Fine-Pruning", RAID 2018).

Channels of `conv_3` are ranked by their mean activation at `pool_3` on clean validation
data (averaged over images and positions) and pruned in increasing order by zeroing that
channel's kernel and bias. A zeroed channel gives relu(0) = 0 and max-pool of 0 = 0, so it
is exactly a zero channel of `pool_3`: the pruning curve is computed from the pool_3
activations of each set, measured ONCE, by zeroing pool_3 channels and running only the
layers after pool_3 (`deepid.build_head`) at each step.

Ranking and the stopping rule are plain NumPy; only `head_labels` runs Keras.
"""

import logging

import numpy as np

from .deepid import build_head, copy_head_weights
from .inference import run_batched
from .tfcompat import keras

LAYER = "conv_3"
POOL_LAYER = "pool_3"


# ---------------------------------------------------------------- ranking (NumPy)


def mean_channel_activation(pool3):
    """Mean of each channel over images and positions: (N, H, W, C) -> (C,) float64."""
    pool3 = np.asarray(pool3)
    if pool3.ndim != 4 or pool3.shape[0] == 0:
        raise ValueError(
            "expected pool_3 activations (N, H, W, C) with N > 0, got shape {}".format(pool3.shape)
        )
    return pool3.astype(np.float64).mean(axis=(0, 1, 2))


def pruning_order(mean_activation):
    """Channel indices by increasing mean activation (ties: lower index first)."""
    return np.argsort(np.asarray(mean_activation), kind="mergesort")


def channel_mask(n_channels, pruned):
    """float32 (C,) with 0 for the pruned channels and 1 elsewhere."""
    mask = np.ones(n_channels, np.float32)
    mask[np.asarray(list(pruned), dtype=np.int64)] = 0.0
    return mask


# ---------------------------------------------------------------- stopping rule (NumPy)


def accuracy_drop_reached(base_correct, correct, n, drop_pct):
    """True where the accuracy fell by at least drop_pct percentage points.

    Compared on counts of correct answers, so 2 % of 100 images is exactly 2 images.
    """
    lost = np.asarray(base_correct, np.float64) - np.asarray(correct, np.float64)
    return lost * 100.0 >= float(drop_pct) * n - 1e-9


def channels_for_drop(correct_counts, n, drop_pct):
    """Smallest k such that pruning the first k ranked channels costs >= drop_pct points.

    correct_counts[k]: clean validation images right after pruning k channels (k = 0..C).
    By construction the drop is below drop_pct at k - 1. Returns None when even pruning
    every channel does not cost drop_pct points.
    """
    correct_counts = np.asarray(correct_counts)
    reached = np.flatnonzero(accuracy_drop_reached(correct_counts[0], correct_counts, n, drop_pct))
    return int(reached[0]) if reached.size else None


# ---------------------------------------------------------------- the net


def prune_model(model, channels, layer=LAYER):
    """Zero kernel[..., c] and bias[c] of `layer` for every c in channels (in place)."""
    kernel, bias = model.get_layer(layer).get_weights()
    channels = np.asarray(list(channels), dtype=np.int64)
    kernel[..., channels] = 0.0
    bias[channels] = 0.0
    model.get_layer(layer).set_weights([kernel, bias])
    return model


def zero_channels(weights, layer=LAYER):
    """Channels of `layer` whose kernel and bias are all zero, in a {layer: [kernel, bias]} dict."""
    kernel, bias = weights[layer]
    flat = np.asarray(kernel).reshape(-1, kernel.shape[-1])
    return [int(c) for c in np.flatnonzero(np.all(flat == 0, axis=0) & (np.asarray(bias) == 0))]


class Head(object):
    """The layers after pool_3 with the weights of `model`: labels for masked pool_3 inputs."""

    def __init__(self, model, n_classes, batch_size=1024):
        self.model = build_head(n_classes)
        copy_head_weights(model, self.model)
        self.batch_size = batch_size

    def labels(self, pool3, mask=None):
        x = pool3 if mask is None else pool3 * mask
        return np.argmax(run_batched(self.model, x, None, self.batch_size), axis=1)


def pruning_curve(head, order, valid_pool3, valid_y, poisoned=(), log_every=1):
    """Validation accuracy and ASR after pruning 0, 1, ..., C channels in `order`.

    poisoned: [(trigger, target, pool3)]. Returns a dict of lists, index k = channels pruned:
    channel (the one pruned at step k; None at k = 0), correct (validation count),
    clean_acc_valid, asr {trigger: [...]}.
    """
    n_channels = len(order)
    valid_y = np.asarray(valid_y)
    curve = {
        "channel": [None],
        "correct": [],
        "clean_acc_valid": [],
        "asr": {trigger: [] for trigger, _, _ in poisoned},
    }
    for k in range(n_channels + 1):
        mask = channel_mask(valid_pool3.shape[-1], order[:k])
        correct = int(np.sum(head.labels(valid_pool3, mask) == valid_y))
        curve["correct"].append(correct)
        curve["clean_acc_valid"].append(correct / float(len(valid_y)))
        for trigger, target, pool3 in poisoned:
            curve["asr"][trigger].append(float(np.mean(head.labels(pool3, mask) == target)))
        if k:
            curve["channel"].append(int(order[k - 1]))
        if log_every and k % log_every == 0:
            logging.info(
                "pruned %2d/%d channels (last: %s): validation accuracy %.2f %%%s",
                k,
                n_channels,
                curve["channel"][-1],
                100 * curve["clean_acc_valid"][-1],
                "".join(", ASR {} {:.2f} %".format(t, 100 * curve["asr"][t][-1]) for t, _, _ in poisoned),
            )
    return curve


# ---------------------------------------------------------------- fine-pruning


class KeepPruned(keras.callbacks.Callback):
    """Re-zero the pruned channels of `layer` after every training batch (fine-pruning)."""

    def __init__(self, channels, layer=LAYER):
        super(KeepPruned, self).__init__()
        self.channels = [int(c) for c in channels]
        self.layer = layer

    def on_train_batch_end(self, batch, logs=None):
        if self.channels:
            prune_model(self.model, self.channels, self.layer)
