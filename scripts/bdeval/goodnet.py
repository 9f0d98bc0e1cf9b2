"""GoodNets: answer a class in [0, N-1] for a clean input and N for an input judged poisoned.

Every defense writes a GoodNet spec (JSON) next to its results:
    {"kind": "<kind>", "badnet": ..., "weights": ..., "n_classes": N, "scaling": ..., ...}
and provides `goodnet_answer(spec, x_raw, batch_size)` in the module KIND_MODULES names,
so the per-image command can answer with any defense's GoodNet.
"""

import importlib
import os

import numpy as np

from . import defenses
from .errors import InputError
from .outputs import read_json, write_json

# The defenses whose jobs write results/BADNET/DEFENSE/DROP/goodnet.json, and the module that
# answers for each GoodNet kind: both from the defense registry.
DEFENSES = defenses.names()
KIND_MODULES = defenses.goodnet_kinds()


def disagreement(badnet_labels, repaired_labels, n_classes):
    """B and B' agree -> their label; disagree -> N."""
    badnet_labels = np.asarray(badnet_labels)
    return np.where(badnet_labels == np.asarray(repaired_labels), badnet_labels, n_classes)


def flag(labels, flagged, n_classes):
    """Inputs flagged as poisoned answer N, the others keep their label."""
    return np.where(np.asarray(flagged, bool), n_classes, np.asarray(labels))


def save_spec(path, spec):
    if spec.get("kind") not in KIND_MODULES:
        raise ValueError("unknown GoodNet kind {!r}".format(spec.get("kind")))
    write_json(path, spec)


def load_spec(path):
    if not os.path.exists(str(path)):
        raise InputError(path, "no such GoodNet spec (run the workflow for this defense first)")
    try:
        spec = read_json(path)
    except ValueError:
        raise InputError(path, "not a GoodNet spec (invalid JSON)") from None
    if spec.get("kind") not in KIND_MODULES:
        raise InputError(path, "unknown GoodNet kind {!r}".format(spec.get("kind")))
    return spec


def answer(spec, x_raw, batch_size=256):
    """Labels in [0, N] for raw-pixel inputs, by the spec's defense."""
    module = importlib.import_module(KIND_MODULES[spec["kind"]])
    return module.goodnet_answer(spec, x_raw, batch_size)


def goodnet_answer(spec, x_raw, batch_size=256):
    """Kinds 'badnet' and 'disagreement'."""
    from .inference import predict_labels
    from .weights import load_model

    badnet = load_model(spec["weights"], spec["n_classes"])
    labels = predict_labels(badnet, x_raw, spec["scaling"], batch_size)
    if spec["kind"] == "badnet":
        return labels
    repaired = load_model(spec["repaired_weights"], spec["n_classes"])
    return disagreement(
        labels, predict_labels(repaired, x_raw, spec["scaling"], batch_size), spec["n_classes"]
    )
