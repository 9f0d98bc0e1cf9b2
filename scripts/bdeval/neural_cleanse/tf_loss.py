"""Neural Cleanse loss and gradients for a batch of labels, on either TensorFlow stack.

Besides tfcompat, the only module with TF-version branches: TF 2.x traces one tf.function
with a GradientTape; TF 1.15 builds a graph once (placeholders, tf.compat.v1.gradients) and
runs it in Keras' session. Optimizer and lambda schedule live in NumPy (bdeval.neural_cleanse.core), so
both stacks run the same optimization.

Shapes: L labels, B images per label, H x W = 55 x 47.
    mask_w (L, H, W, 1), pattern_w (L, H, W, 3): tanh parameters of mask and pattern in [0, 1]
    x (L, B, H, W, 3): scaled clean images, one set per label
    targets (L,) int, lam (L,) float: the label each trigger aims at and its L1 weight
"""

import numpy as np
import tensorflow as tf

from .. import INPUT_SHAPE
from ..deepid import layer_model
from ..tfcompat import LEGACY, keras
from . import core

HIDDEN_LAYER = "activation_1"  # the layer before the output


def unit_tanh(w):
    """core.unit_tanh for TensorFlow tensors (NumPy arrays go to core's)."""
    if isinstance(w, np.ndarray):
        return core.unit_tanh(w)
    return tf.tanh(w) / (2 - core.EPSILON) + 0.5


def _terms(hidden, kernel, bias, mask_w, pattern_w, x, targets, lam, pattern_scale):
    mask = unit_tanh(mask_w)
    pattern = unit_tanh(pattern_w) * pattern_scale
    mixed = (1.0 - mask[:, None]) * x + (mask * pattern)[:, None]
    n_labels, n_images = tf.shape(x)[0], tf.shape(x)[1]
    logits = tf.matmul(hidden(tf.reshape(mixed, [-1] + list(INPUT_SHAPE))), kernel) + bias
    labels = tf.reshape(tf.tile(targets[:, None], [1, n_images]), [-1])
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    ce = tf.reduce_mean(tf.reshape(ce, [n_labels, n_images]), axis=1)
    hit = tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), labels), tf.float32)
    acc = tf.reduce_mean(tf.reshape(hit, [n_labels, n_images]), axis=1)
    reg = tf.reduce_sum(tf.abs(mask), axis=[1, 2, 3])
    return tf.reduce_sum(ce + lam * reg), ce, reg, acc


class TriggerLoss(object):
    """loss(mask_w, pattern_w, x, targets, lam) -> dict of NumPy arrays:
    grad_mask, grad_pattern (d loss / d parameters), ce, reg (= |mask|_1), acc, per label."""

    def __init__(self, model, pattern_scale):
        self.hidden = layer_model(model, HIDDEN_LAYER)
        out = model.get_layer("output")
        self.kernel, self.bias = out.kernel, out.bias
        self.pattern_scale = float(pattern_scale)
        if LEGACY:
            self._build_graph()
        else:
            self._build_function()

    def _build_graph(self):  # TF 1.15
        v1 = tf.compat.v1
        h, w, c = INPUT_SHAPE
        self._ph = [
            v1.placeholder(tf.float32, (None, h, w, 1)),
            v1.placeholder(tf.float32, (None, h, w, c)),
            v1.placeholder(tf.float32, (None, None, h, w, c)),
            v1.placeholder(tf.int32, (None,)),
            v1.placeholder(tf.float32, (None,)),
        ]
        loss, ce, reg, acc = _terms(self.hidden, self.kernel, self.bias, *(self._ph + [self.pattern_scale]))
        grads = v1.gradients(loss, self._ph[:2])
        self._fetch = list(grads) + [ce, reg, acc]
        self._session = keras.backend.get_session()

    def _build_function(self):  # TF 2.x
        h, w, c = INPUT_SHAPE
        spec = [
            tf.TensorSpec((None, h, w, 1), tf.float32),
            tf.TensorSpec((None, h, w, c), tf.float32),
            tf.TensorSpec((None, None, h, w, c), tf.float32),
            tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((None,), tf.float32),
        ]

        @tf.function(input_signature=spec)
        def step(mask_w, pattern_w, x, targets, lam):
            with tf.GradientTape() as tape:
                tape.watch(mask_w)
                tape.watch(pattern_w)
                loss, ce, reg, acc = _terms(
                    self.hidden,
                    self.kernel,
                    self.bias,
                    mask_w,
                    pattern_w,
                    x,
                    targets,
                    lam,
                    self.pattern_scale,
                )
            grad_mask, grad_pattern = tape.gradient(loss, [mask_w, pattern_w])
            return grad_mask, grad_pattern, ce, reg, acc

        self._step = step

    def __call__(self, mask_w, pattern_w, x, targets, lam):
        args = [
            np.asarray(mask_w, np.float32),
            np.asarray(pattern_w, np.float32),
            np.asarray(x, np.float32),
            np.asarray(targets, np.int32),
            np.asarray(lam, np.float32),
        ]
        if LEGACY:
            values = self._session.run(self._fetch, feed_dict=dict(zip(self._ph, args)))
        else:
            values = [t.numpy() for t in self._step(*args)]
        return dict(zip(("grad_mask", "grad_pattern", "ce", "reg", "acc"), values))
