"""Every TensorFlow-version difference lives here (TF 1.15 with tf.keras, or TF 2.x with tf-keras).

Import keras from this module: `from bdeval.tfcompat import keras`.
"""

import random

import numpy as np
import tensorflow as tf  # start-up lines hidden unless --verbose: see bdeval.tflog

from .tflog import verbose_requested

TF_MAJOR = int(tf.__version__.split(".")[0])
LEGACY = TF_MAJOR < 2

if LEGACY:
    from tensorflow import keras  # TF 1.15: tf.keras is the Keras 2 API

    if not verbose_requested():
        tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
else:
    try:
        import tf_keras as keras  # Keras 2 API on modern TensorFlow
    except ImportError:  # TF < 2.16 still ships Keras 2 as tf.keras
        from tensorflow import keras

        if not keras.__version__.startswith("2."):
            raise ImportError("this workflow needs the Keras 2 API: pip install tf-keras")


def stack_description():
    return "tensorflow {} / keras {}".format(tf.__version__, keras.__version__)


def configure(seed=0, threads=None):
    """Seed every RNG, make ops deterministic where supported, and cap CPU threads."""
    random.seed(seed)
    np.random.seed(seed)
    if LEGACY:
        tf.compat.v1.set_random_seed(seed)
        if threads:
            conf = tf.compat.v1.ConfigProto(
                intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads
            )
            keras.backend.set_session(tf.compat.v1.Session(config=conf))
    else:
        tf.random.set_seed(seed)
        if threads:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(threads)
            except RuntimeError:  # already initialised in this process
                pass
        try:
            tf.config.experimental.enable_op_determinism()
        except (AttributeError, RuntimeError):
            pass


def adam(learning_rate, beta_1=0.9, beta_2=0.999):
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2)


def clear_session():
    keras.backend.clear_session()


def batch_predictor(model):
    """A callable batch (numpy, any batch size) -> model outputs (numpy), for many calls.

    TF 2: one tf.function with an unknown batch dimension, traced once (predict_on_batch
    retraces on each new batch size and costs more per call); TF 1.15: predict_on_batch.
    """
    if LEGACY:
        return model.predict_on_batch
    spec = tf.TensorSpec([None] + list(model.input_shape[1:]), tf.float32)
    forward = tf.function(lambda x: model(x, training=False), input_signature=[spec])

    def predict(batch):
        return forward(tf.convert_to_tensor(batch, tf.float32)).numpy()

    return predict
