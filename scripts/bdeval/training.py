"""Training a DeepID model on raw-pixel data (demo badnets, fine-tuning)."""

import logging

import numpy as np

from .inference import scale
from .tfcompat import adam, keras


class _EpochLog(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        logging.info(
            "epoch %d: loss %.4f, accuracy %.4f",
            epoch + 1,
            logs.get("loss", float("nan")),
            logs.get("accuracy", logs.get("acc", float("nan"))),
        )


SPARSE = "sparse_categorical_crossentropy"  # targets: labels
SOFT = "categorical_crossentropy"  # targets: probability vectors (a teacher's answers)


def compile_model(model, learning_rate, loss=SPARSE):
    model.compile(optimizer=adam(learning_rate), loss=loss, metrics=["accuracy"])


def fit(model, x_raw, y, scaling, epochs, batch_size, learning_rate, seed, callbacks=()):
    """Fit in place with a seeded shuffle; returns the model."""
    compile_model(model, learning_rate)
    rng = np.random.RandomState(seed)
    order = rng.permutation(len(y))
    model.fit(
        scale(x_raw[order], scaling),
        np.asarray(y)[order],
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
        callbacks=[_EpochLog()] + list(callbacks),
    )
    return model


def train_epoch(model, x_raw, y, scaling, batch_size, rng, callbacks=()):
    """One epoch of a compiled model (compile_model) in an order drawn from `rng`.

    Returns (mean loss, accuracy) of the epoch as Keras reports them.
    """
    order = rng.permutation(len(y))
    history = model.fit(
        scale(x_raw[order], scaling),
        np.asarray(y)[order],
        epochs=1,
        batch_size=batch_size,
        shuffle=False,
        verbose=0,
        callbacks=list(callbacks),
    )
    logs = history.history
    acc = logs.get("accuracy", logs.get("acc", [float("nan")]))
    return float(logs["loss"][-1]), float(acc[-1])
