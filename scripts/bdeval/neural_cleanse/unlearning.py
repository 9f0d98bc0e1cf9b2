"""Neural Cleanse unlearning (Wang et al. 2019, section VI-C): the badnet fine-tuned on clean tuning
images of which a fraction (paper: 20 %) carry the reversed trigger of a flagged label, kept at
their TRUE label (or, with the badnet as teacher, at the badnet's answer on the clean image), so
the net learns to ignore the trigger.

The triggers come from the scan's outputs (nc.json `flagged`, triggers.npz), never from a second
scan. Each epoch stamps a fresh seeded choice of tuning images, the flagged labels' triggers
taking turns. The defender's own attack estimate, `trigger_rate`, is the share of check images
(not of a flagged label) that a flagged label's reversed trigger still sends to that label; the
fine-tuning routine (bdeval.finetune) prefers the checkpoint where it is lowest.
"""

import os

import numpy as np

from ..errors import InputError
from ..outputs import read_json
from . import store
from .filter import stamp

NOTHING_FLAGGED = "no label flagged: nothing to unlearn"


def flagged_triggers(summary_path, triggers_path):
    """(flagged labels, {label: (mask, pattern)}) from nc.json and triggers.npz."""
    for path in (summary_path, triggers_path):
        if not os.path.exists(str(path)):
            raise InputError(path, "no such file (run the Neural Cleanse scan first)")
    flagged = [int(label) for label in read_json(summary_path).get("flagged", [])]
    found = {r["label"]: (r["mask"], r["pattern"]) for r in store.load_results(triggers_path)[0]}
    missing = [label for label in flagged if label not in found]
    if missing:
        raise InputError(triggers_path, "no reversed trigger for flagged label(s) {}".format(missing))
    return flagged, {label: found[label] for label in flagged}


def stamp_plan(n, fraction, labels, rng):
    """{label: image indices to stamp with its trigger}: round(fraction * n) images in all (at
    least one when fraction > 0), drawn without replacement, the labels taking turns."""
    labels = list(labels)
    count = min(n, max(1, int(round(fraction * n)))) if labels and fraction > 0 else 0
    chosen = rng.permutation(n)[:count]
    return {label: np.sort(chosen[i :: len(labels)]) for i, label in enumerate(labels)}


def unlearning_set(x_raw, y, triggers, fraction, rng):
    """A copy of (x_raw, y) with a fraction of the images stamped; targets y (labels, or a
    teacher's probabilities per image) unchanged."""
    x = np.array(x_raw, np.float32, copy=True)
    for label, idx in stamp_plan(len(y), fraction, sorted(triggers), rng).items():
        if len(idx):
            x[idx] = stamp(x[idx], *triggers[label])
    return x, np.asarray(y)


def trigger_rate(predict, x_raw, y, triggers):
    """Largest share, over flagged labels, of images of other labels that a label's stamped
    trigger sends to that label. predict(x_raw) -> labels. 0 when there is nothing to stamp."""
    rates = []
    for label in sorted(triggers):
        keep = np.asarray(y) != label
        if np.any(keep):
            rates.append(float(np.mean(predict(stamp(x_raw[keep], *triggers[label])) == label)))
    return max(rates) if rates else 0.0
