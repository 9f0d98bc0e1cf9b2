"""The challenge's DeepID network (architecture.py of CSAW-HackML-2020), built from code."""

from . import INPUT_SHAPE
from .tfcompat import keras

# Layer order of the Keras-2 weight files; weighted layers are loaded by these names.
LAYER_NAMES = [
    "input",
    "conv_1",
    "pool_1",
    "conv_2",
    "pool_2",
    "conv_3",
    "pool_3",
    "conv_4",
    "flatten_1",
    "flatten_2",
    "fc_1",
    "fc_2",
    "add_1",
    "activation_1",
    "output",
]
WEIGHTED_LAYERS = ["conv_1", "conv_2", "conv_3", "conv_4", "fc_1", "fc_2", "output"]
HEAD_LAYERS = ["flatten_1", "fc_1", "conv_4", "flatten_2", "fc_2", "add_1", "activation_1", "output"]


def expected_shapes(n_classes):
    """Weight shapes per layer name, (kernel, bias)."""
    return {
        "conv_1": [(4, 4, 3, 20), (20,)],
        "conv_2": [(3, 3, 20, 40), (40,)],
        "conv_3": [(3, 3, 40, 60), (60,)],
        "conv_4": [(2, 2, 60, 80), (80,)],
        "fc_1": [(1200, 160), (160,)],
        "fc_2": [(960, 160), (160,)],
        "output": [(160, n_classes), (n_classes,)],
    }


def _head(pool_3, n_classes):
    flat_1 = keras.layers.Flatten(name="flatten_1")(pool_3)
    fc_1 = keras.layers.Dense(160, name="fc_1")(flat_1)
    conv_4 = keras.layers.Conv2D(80, (2, 2), activation="relu", name="conv_4")(pool_3)
    flat_2 = keras.layers.Flatten(name="flatten_2")(conv_4)
    fc_2 = keras.layers.Dense(160, name="fc_2")(flat_2)
    merged = keras.layers.Add(name="add_1")([fc_1, fc_2])
    hidden = keras.layers.Activation("relu", name="activation_1")(merged)
    return keras.layers.Dense(n_classes, activation="softmax", name="output")(hidden)


def build_deepid(n_classes):
    """Full network: 55x47x3 input -> softmax over n_classes."""
    x = keras.Input(shape=INPUT_SHAPE, name="input")
    conv_1 = keras.layers.Conv2D(20, (4, 4), activation="relu", name="conv_1")(x)
    pool_1 = keras.layers.MaxPooling2D((2, 2), name="pool_1")(conv_1)
    conv_2 = keras.layers.Conv2D(40, (3, 3), activation="relu", name="conv_2")(pool_1)
    pool_2 = keras.layers.MaxPooling2D((2, 2), name="pool_2")(conv_2)
    conv_3 = keras.layers.Conv2D(60, (3, 3), activation="relu", name="conv_3")(pool_2)
    pool_3 = keras.layers.MaxPooling2D((2, 2), name="pool_3")(conv_3)
    return keras.Model(inputs=x, outputs=_head(pool_3, n_classes), name="deepid")


def build_head(n_classes):
    """The layers after pool_3, as a model taking pool_3 activations (5x4x60)."""
    pool_3 = keras.Input(shape=(5, 4, 60), name="pool_3_in")
    return keras.Model(inputs=pool_3, outputs=_head(pool_3, n_classes), name="deepid_head")


def copy_head_weights(model, head):
    for name in ("fc_1", "conv_4", "fc_2", "output"):
        head.get_layer(name).set_weights(model.get_layer(name).get_weights())


def layer_model(model, layer_name):
    """A model mapping the input to the output of `layer_name`."""
    return keras.Model(inputs=model.input, outputs=model.get_layer(layer_name).output)
