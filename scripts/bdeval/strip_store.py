"""The STRIP entropy file of one badnet (.npz): written by strip_entropy.py, read by the threshold
job and the plots.

Arrays <set>_entropy (mean entropy of the input's blends, bits), <set>_pred (the badnet's label
of the unblended input) and <set>_label (the true label) for the sets clean_validation,
clean_test and poisoned_<trigger>, and `meta`: a JSON string (badnet, weights, n_classes,
scaling, blend_pool, n_blends, blend, weight, seed, batch_size, poisoned [{trigger, target}], ...).
"""

import json

import numpy as np

from .errors import InputError
from .outputs import read_npz, write_npz

SET_ARRAYS = ("entropy", "pred", "label")
WHAT = "a STRIP entropy file"


def set_names(triggers):
    """The sets of a badnet with these poisoned sets' triggers, in file order."""
    return ["clean_validation", "clean_test"] + ["poisoned_" + t for t in triggers]


def save_entropies(path, meta, sets):
    """sets: {set name: {"entropy", "pred", "label"}} in set_names order; meta: JSON-able dict."""
    arrays = {}
    for name, values in sets.items():
        arrays.update(("{}_{}".format(name, key), values[key]) for key in SET_ARRAYS)
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    write_npz(path, arrays)


def load_entropies(path):
    """(meta, {set name: {"entropy", "pred", "label"}}), sets in set_names order."""
    arrays = read_npz(path, WHAT, ["meta"], " (run strip_entropy.py first)")
    try:
        meta = json.loads(str(arrays["meta"]))
        triggers = [p["trigger"] for p in meta["poisoned"]]
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(path, "not {}: unreadable meta ({})".format(WHAT, err)) from None
    sets = {}
    for name in set_names(triggers):
        try:
            sets[name] = {key: arrays["{}_{}".format(name, key)] for key in SET_ARRAYS}
        except KeyError:
            raise InputError(path, "no entropies of set '{}'".format(name)) from None
    return meta, sets
