"""Neural Cleanse mitigation: the paper's input filter, and the GoodNet of kind 'neural_cleanse'.

For each flagged label, the neurons of the layer before the output (DeepID's `activation_1`,
160 units) that its reversed trigger excites most (mean activation on triggered minus clean
validation images) are selected. An input's score for that label is its mean activation on
those neurons, standardized on clean validation images; its overall score is the maximum over
flagged labels. Inputs scoring above the threshold answer N; the threshold is set so that a
fraction drop% of clean validation images is rejected (FRR = drop%).
"""

import numpy as np

from ..inference import scale
from ..tfcompat import keras
from .tf_loss import HIDDEN_LAYER


def stamp(x_raw, mask, pattern):
    """Apply a reversed trigger to raw-pixel images: (1 - m) * x + m * 255 * p."""
    mask = np.asarray(mask, np.float32)[:, :, None]
    return (1.0 - mask) * np.asarray(x_raw, np.float32) + mask * 255.0 * np.asarray(pattern, np.float32)


def hidden_and_labels(model, x_raw, scaling, batch_size=256):
    """(activations of the layer before the output (N, 160), predicted labels (N,))."""
    both = getattr(model, "_nc_two_outputs", None)
    if both is None:  # built once per model: a new Model per call would retrace every time
        both = keras.Model(inputs=model.input, outputs=[model.get_layer(HIDDEN_LAYER).output, model.output])
        model._nc_two_outputs = both
    hidden, labels = [], []
    for start in range(0, len(x_raw), batch_size):
        h, p = both.predict_on_batch(scale(x_raw[start : start + batch_size], scaling))
        hidden.append(np.asarray(h))
        labels.append(np.argmax(np.asarray(p), axis=1))
    if not hidden:
        return np.zeros((0, model.get_layer(HIDDEN_LAYER).output.shape[-1])), np.zeros(0, int)
    return np.concatenate(hidden), np.concatenate(labels)


def n_neurons(fraction, width):
    return int(max(1, round(fraction * width)))


def select_neurons(clean_hidden, trigger_hidden, count):
    """Indices of the `count` neurons whose mean activation the trigger raises most."""
    rise = trigger_hidden.mean(axis=0) - clean_hidden.mean(axis=0)
    return [int(i) for i in np.argsort(-rise, kind="stable")[:count]]


def scores(hidden, filters):
    """Overall score per input: max over flagged labels of the standardized neuron mean."""
    if not filters:
        return np.full(len(hidden), -np.inf)
    per_label = [(hidden[:, f["neurons"]].mean(axis=1) - f["mean"]) / f["std"] for f in filters]
    return np.max(np.stack(per_label), axis=0)


def build_filter(model, scaling, x_valid, triggers, fraction, drop_pct, batch_size=256):
    """Filter parameters for the GoodNet spec. triggers: {label: (mask, pattern)}."""
    clean_hidden, _ = hidden_and_labels(model, x_valid, scaling, batch_size)
    count = n_neurons(fraction, clean_hidden.shape[1])
    filters = []
    for label in sorted(triggers):
        mask, pattern = triggers[label]
        trig_hidden, _ = hidden_and_labels(model, stamp(x_valid, mask, pattern), scaling, batch_size)
        neurons = select_neurons(clean_hidden, trig_hidden, count)
        clean_score = clean_hidden[:, neurons].mean(axis=1)
        filters.append(
            {
                "label": int(label),
                "neurons": neurons,
                "mean": float(clean_score.mean()),
                "std": float(clean_score.std() + 1e-6),
            }
        )
    threshold = None
    if filters:
        threshold = float(np.percentile(scores(clean_hidden, filters), 100.0 - drop_pct))
    return {"filters": filters, "threshold": threshold, "n_neurons": count}


def flag_inputs(hidden, spec):
    if not spec["filters"]:
        return np.zeros(len(hidden), bool)
    return scores(hidden, spec["filters"]) > spec["threshold"]


def goodnet_answer(spec, x_raw, batch_size=256):
    """Kind 'neural_cleanse': the badnet's label, or N where the input filter fires."""
    from ..weights import load_model

    model = load_model(spec["weights"], spec["n_classes"])
    hidden, labels = hidden_and_labels(model, np.asarray(x_raw, np.float32), spec["scaling"], batch_size)
    return np.where(flag_inputs(hidden, spec), spec["n_classes"], labels)
