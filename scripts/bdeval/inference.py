"""Input scaling and forward passes in bounded-memory batches."""

import logging

import numpy as np

from .deepid import layer_model

SCALINGS = ("x/255", "raw")


def scale(x, scaling):
    """Map raw 0..255 pixels to the input range the badnet was trained on."""
    if scaling == "x/255":
        return np.asarray(x, np.float32) / 255.0
    if scaling == "raw":
        return np.asarray(x, np.float32)
    raise ValueError("unknown scaling {!r}; use one of {}".format(scaling, SCALINGS))


def run_batched(model, x_raw, scaling=None, batch_size=256):
    """Run `model` batch by batch; only one batch is scaled at a time. scaling=None: as given."""
    n = len(x_raw)
    if n == 0:
        out_shape = tuple(int(d) for d in model.output_shape[1:])
        return np.zeros((0,) + out_shape, np.float32)
    outputs = []
    for start in range(0, n, batch_size):
        batch = x_raw[start : start + batch_size]
        if scaling is not None:
            batch = scale(batch, scaling)
        outputs.append(np.asarray(model.predict_on_batch(batch)))
        if n >= 50 * batch_size and (start // batch_size) % 50 == 49:
            logging.info("  forward pass: %d / %d inputs", start + len(batch), n)
    return np.concatenate(outputs, axis=0)


def predict_proba(model, x_raw, scaling, batch_size=256):
    """Softmax outputs for raw-pixel inputs."""
    return run_batched(model, x_raw, scaling, batch_size)


def predict_labels(model, x_raw, scaling, batch_size=256):
    return np.argmax(predict_proba(model, x_raw, scaling, batch_size), axis=1)


def activations(model, layer_name, x_raw, scaling, batch_size=256):
    """Outputs of `layer_name` (e.g. 'pool_3') for raw-pixel inputs."""
    return run_batched(layer_model(model, layer_name), x_raw, scaling, batch_size)
