#!/usr/bin/env python
"""The ART side of benchmarks/bench_nc_vs_art.py; runs under .venv-art/bin/python (Keras 3).

IBM's Adversarial Robustness Toolbox Neural Cleanse (art.defences.transformer.poisoning.NeuralCleanse,
which returns an art.estimators.poison_mitigation.neural_cleanse.keras.KerasNeuralCleanse) with its
default settings, one label at a time through KerasNeuralCleanse.generate_backdoor (the per-label
step of its outlier_detection), on a Keras 3 DeepID built here; the Keras-2 weights are read with
h5py (no model config is deserialized).

    .venv-art/bin/python benchmarks/art_nc_worker.py --data IN.npz --out OUT.npz [--threads 2] [--seed 1]

IN.npz: weights (path), n_classes, x (N, 55, 47, 3) in [0, 1], y (N,) int, labels (K,) int,
input_multiplier (the net sees x * input_multiplier: 255 for nets trained on raw pixels), and
optionally steps (override ART's default, smoke tests only). OUT.npz: per-label results and a
JSON `meta` string. Progress goes to stderr; ART's per-step print() is sent to /dev/null.
"""

import argparse
import contextlib
import json
import os
import resource
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TQDM_DISABLE", "1")  # ART wraps every label's loop in a tqdm bar

import h5py  # noqa: E402
import numpy as np  # noqa: E402

INPUT_SHAPE = (55, 47, 3)
WEIGHTED_LAYERS = ["conv_1", "conv_2", "conv_3", "conv_4", "fc_1", "fc_2", "output"]
DEFAULT_NAMES = [
    "steps",
    "init_cost",
    "norm",
    "learning_rate",
    "attack_success_threshold",
    "patience",
    "early_stop",
    "early_stop_threshold",
    "early_stop_patience",
    "cost_multiplier_up",
    "cost_multiplier_down",
    "batch_size",
]


def log(message):
    sys.stderr.write("[art] {}\n".format(message))
    sys.stderr.flush()


def _decode(values):
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def read_weights(path):
    """{layer: [kernel, bias]} from a Keras-2 HDF5 weight file (root or model_weights)."""
    with h5py.File(path, "r") as handle:
        root = handle["model_weights"] if "model_weights" in handle else handle
        arrays = {}
        for name in _decode(root.attrs["layer_names"]):
            names = _decode(root[name].attrs.get("weight_names", []))
            if names:
                arrays[name] = [np.asarray(root[name][w]) for w in names]
    return arrays


def build_deepid(keras, n_classes, input_multiplier):
    """The challenge's DeepID in Keras 3 (same layer names as the Keras-2 files)."""
    layers = keras.layers
    inp = keras.Input(shape=INPUT_SHAPE, name="input")
    x = inp
    if input_multiplier != 1.0:  # the net was trained on raw 0..255 pixels
        x = layers.Rescaling(float(input_multiplier), name="to_raw_pixels")(x)
    x = layers.Conv2D(20, (4, 4), activation="relu", name="conv_1")(x)
    x = layers.MaxPooling2D((2, 2), name="pool_1")(x)
    x = layers.Conv2D(40, (3, 3), activation="relu", name="conv_2")(x)
    x = layers.MaxPooling2D((2, 2), name="pool_2")(x)
    x = layers.Conv2D(60, (3, 3), activation="relu", name="conv_3")(x)
    pool_3 = layers.MaxPooling2D((2, 2), name="pool_3")(x)
    fc_1 = layers.Dense(160, name="fc_1")(layers.Flatten(name="flatten_1")(pool_3))
    conv_4 = layers.Conv2D(80, (2, 2), activation="relu", name="conv_4")(pool_3)
    fc_2 = layers.Dense(160, name="fc_2")(layers.Flatten(name="flatten_2")(conv_4))
    hidden = layers.Activation("relu", name="activation_1")(layers.Add(name="add_1")([fc_1, fc_2]))
    out = layers.Dense(n_classes, activation="softmax", name="output")(hidden)
    return keras.Model(inputs=inp, outputs=out, name="deepid")


def vm_hwm_mb():
    """This process's own peak RSS (Linux VmHWM). ru_maxrss of a process started by fork/vfork + exec
    also counts the parent's peak at the exec, so it can show the driver's memory instead of ours."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except (IOError, OSError, ValueError, IndexError):
        pass
    return None


def predict_labels(model, x, batch=256):
    return np.concatenate(
        [
            np.argmax(np.asarray(model(x[i : i + batch], training=False)), axis=1)
            for i in range(0, len(x), batch)
        ]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras

    keras.utils.set_random_seed(args.seed)  # Python, NumPy (ART's mask/pattern init) and TF
    import art
    from art.estimators.classification.keras import KerasClassifier
    from art.defences.transformer.poisoning import NeuralCleanse

    data = np.load(args.data, allow_pickle=False)
    x = np.asarray(data["x"], np.float32)
    y = np.asarray(data["y"], np.int64)
    labels = [int(v) for v in data["labels"]]
    n_classes = int(data["n_classes"])
    multiplier = float(data["input_multiplier"])
    steps_override = int(data["steps"]) if "steps" in data.files else None

    model = build_deepid(keras, n_classes, multiplier)
    arrays = read_weights(str(data["weights"]))
    for name in WEIGHTED_LAYERS:
        model.get_layer(name).set_weights(arrays[name])
    clean_acc = float(np.mean(predict_labels(model, x) == y))
    log("Keras 3 DeepID: clean accuracy {:.3f} on {} images".format(clean_acc, len(y)))

    # The documented entry point: NeuralCleanse(classifier)(classifier, **defaults) -> KerasNeuralCleanse.
    classifier = KerasClassifier(model=model, clip_values=(0.0, 1.0))
    kwargs = {} if steps_override is None else {"steps": steps_override}
    nc = NeuralCleanse(classifier)(classifier, **kwargs)
    defaults = dict((k, getattr(nc, k)) for k in DEFAULT_NAMES)
    defaults["adam_betas"] = [float(nc.opt.beta_1), float(nc.opt.beta_2)]
    defaults["use_logits"] = bool(nc.use_logits)
    defaults["mask_shape"] = list(nc.mask_tensor_raw.shape)
    defaults["batches_per_step"] = len(x) // nc.batch_size

    # Patch: under Keras 3, reset() zeroes every optimizer variable, the learning rate included.
    patches = []
    stock_reset = nc.reset
    nc.reset()
    lr_after_stock_reset = float(np.asarray(nc.opt.learning_rate))
    if lr_after_stock_reset != float(nc.learning_rate):

        def reset():
            stock_reset()
            nc.opt.learning_rate.assign(nc.learning_rate)

        nc.reset = reset
        patches.append(
            "KerasNeuralCleanse.reset() sets Adam's learning rate to {} (Keras 3 keeps it in "
            "optimizer.variables, which reset() zeroes); restored to {} after every reset()".format(
                lr_after_stock_reset, nc.learning_rate
            )
        )

    # Count optimizer steps and record the lambda (cost) trajectory's end (instrumentation only).
    stock_train = nc.train
    counter = {"steps": 0}

    def counted_train(x_batch, y_batch):
        counter["steps"] += 1
        return stock_train(x_batch, y_batch)

    nc.train = counted_train

    # Untimed warm-up of the forward/backward pass (ART's train step runs eagerly: nothing to trace);
    # it touches neither ART's mask/pattern variables nor its optimizer.
    probe = tf.Variable(np.zeros((1,) + INPUT_SHAPE, np.float32))
    with tf.GradientTape() as tape:
        out = model(x[: nc.batch_size] + probe, training=False)
    tape.gradient(tf.reduce_sum(out), probe)

    y_val = np.eye(n_classes, dtype=np.float32)[y]
    results = {k: [] for k in ("seconds", "steps", "final_cost", "l1_sum", "l1_chanmax", "asr")}
    masks, patterns = [], []
    for label in labels:
        target = np.eye(n_classes, dtype=np.float32)[label]
        counter["steps"] = 0
        began = time.time()
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # print(loss_acc) per step
            mask, pattern = nc.generate_backdoor(x, y_val, target)
        seconds = time.time() - began
        mask, pattern = np.asarray(mask, np.float32), np.asarray(pattern, np.float32)
        others = y != label
        mixed = (1.0 - mask) * x[others] + mask * pattern
        asr = float(np.mean(predict_labels(model, mixed) == label))
        results["seconds"].append(seconds)
        results["steps"].append(counter["steps"])
        results["final_cost"].append(float(nc.cost))
        results["l1_sum"].append(float(np.sum(np.abs(mask))))
        results["l1_chanmax"].append(float(np.sum(np.max(np.abs(mask), axis=-1))))
        results["asr"].append(asr)
        masks.append(mask)
        patterns.append(pattern)
        log(
            "label {}: {:.1f} s, {} steps, L1 {:.1f} (sum over 3 channels), attack success {:.2f}".format(
                label, seconds, counter["steps"], results["l1_sum"][-1], asr
            )
        )

    meta = {
        "art": art.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "threads": [
            tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads(),
        ],
        "clean_accuracy": clean_acc,
        "defaults": defaults,
        "steps_override": steps_override,
        "patches": patches,
        "lr_after_stock_reset": lr_after_stock_reset,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "vmhwm_mb": vm_hwm_mb(),
    }
    np.savez(
        args.out,
        labels=np.asarray(labels),
        masks=np.asarray(masks),
        patterns=np.asarray(patterns),
        meta=json.dumps(meta),
        **dict((k, np.asarray(v)) for k, v in results.items()),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
