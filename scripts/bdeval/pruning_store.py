"""Files of a badnet's pruning job: the pruning curve and the mean pool_3 activation maps.

curve.json  every list of bdeval.pruning.pruning_curve (index k = channels pruned: channel,
            correct, clean_acc_valid, asr {trigger: [...]}) plus the pruning order and the mean
            activation of each channel
curve.csv   the same, one row per k: channels_pruned, fraction_pruned, channel, mean_activation,
            clean_acc_valid, asr:<trigger>... (what the plots read)
activation_maps.npz
            clean: the (H, W, C) mean pool_3 map on clean validation data, poisoned_<trigger>:
            the same on each poisoned set, order: the pruning order
"""

import csv

import numpy as np

from .errors import InputError
from .outputs import read_npz, write_csv, write_json, write_npz

CURVE_COLUMNS = ("fraction_pruned", "clean_acc_valid")  # with asr:<trigger>, what load_curve reads


def save_curve(csv_path, json_path, curve, order, mean_activation):
    """curve: bdeval.pruning.pruning_curve's; order: channel indices; mean_activation: (C,)."""
    order = [int(c) for c in order]
    mean_activation = [float(a) for a in mean_activation]
    write_json(json_path, dict(curve, order=order, mean_activation=mean_activation))
    triggers = sorted(curve["asr"])
    n_channels = float(len(order))
    header = ["channels_pruned", "fraction_pruned", "channel", "mean_activation", "clean_acc_valid"] + [
        "asr:" + t for t in triggers
    ]
    rows = (
        [
            k,
            "{:.6g}".format(k / n_channels),
            "" if channel is None else channel,
            "" if channel is None else "{:.6g}".format(mean_activation[channel]),
            "{:.6g}".format(curve["clean_acc_valid"][k]),
        ]
        + ["{:.6g}".format(curve["asr"][t][k]) for t in triggers]
        for k, channel in enumerate(curve["channel"])
    )
    write_csv(csv_path, header, rows)


def load_curve(path):
    """{column: float array} of curve.csv: fraction_pruned, clean_acc_valid, asr:<trigger>..."""
    what = "not a pruning curve"
    try:
        with open(str(path)) as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise InputError(path, "no such file (run prune_badnet.py first)") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(path, "{} ({})".format(what, err)) from None
    missing = [c for c in CURVE_COLUMNS if not rows or c not in rows[0]]
    if missing:
        raise InputError(path, "{}: no {}".format(what, "rows" if not rows else ", ".join(missing)))
    try:
        return {
            c: np.array([float(r[c]) for r in rows])
            for c in rows[0]
            if c in CURVE_COLUMNS or c.startswith("asr:")
        }
    except (TypeError, ValueError) as err:
        raise InputError(path, "{} ({})".format(what, err)) from None


def save_activation_maps(path, clean, poisoned, order):
    """clean: (H, W, C) mean map; poisoned: [(trigger, (H, W, C) mean map)]; order: pruning order."""
    arrays = {"clean": clean, "order": np.asarray(order)}
    for trigger, mean_map in poisoned:
        arrays["poisoned_" + trigger] = mean_map
    write_npz(path, arrays)


def load_activation_maps(path):
    """{"clean", "order", "poisoned_<trigger>"...: array} of save_activation_maps' file."""
    return read_npz(path, "an activation map file", ["clean", "order"], " (run prune_badnet.py first)")
