"""Self-test of the workflow's software stack: the `%test` of containers/bdeval-tf1.def.

Imports every package the scripts use and every bdeval module, builds the challenge's DeepID
network with bdeval.deepid.build_deepid and runs a forward pass on a tiny input. Also runs on the
host stacks (tests/test_python_compat.py): python containers/selftest.py --code scripts
Python 3.7 syntax.
"""

import argparse
import importlib
import os
import pkgutil
import sys

REQUIRED = ["numpy", "h5py", "PIL", "matplotlib", "yaml", "tensorflow"]


def parse_args(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--code", default=os.path.join(here, "..", "scripts"), help="folder holding the bdeval package"
    )
    p.add_argument("--expect-python", default=None, help="e.g. 3.8: fail on another version")
    p.add_argument("--expect-tf-major", type=int, default=None, help="e.g. 1: fail on TF 2")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    version = "{}.{}".format(*sys.version_info[:2])
    print("python", sys.version.split()[0])
    if args.expect_python and version != args.expect_python:
        raise SystemExit("expected Python {}, found {}".format(args.expect_python, version))
    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in REQUIRED:
        module = importlib.import_module(name)
        print("{:<11} {}".format(name, getattr(module, "__version__", "?")))

    sys.path.insert(0, os.path.abspath(args.code))
    import bdeval

    for info in pkgutil.walk_packages(bdeval.__path__, "bdeval."):  # each imports only what it needs
        importlib.import_module(info.name)
    from bdeval import INPUT_SHAPE, tfcompat
    from bdeval.deepid import build_deepid

    import numpy as np
    import tensorflow as tf

    print("stack:", tfcompat.stack_description())
    if args.expect_tf_major is not None and tfcompat.TF_MAJOR != args.expect_tf_major:
        raise SystemExit("expected TensorFlow {}.x, found {}".format(args.expect_tf_major, tf.__version__))
    tfcompat.configure(seed=0, threads=1)
    model = build_deepid(5)
    x = np.random.RandomState(0).uniform(0, 1, size=(3,) + INPUT_SHAPE).astype("float32")
    probs = model.predict(x, batch_size=3)
    if probs.shape != (3, 5) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4):
        raise SystemExit(
            "DeepID forward pass gave {} with row sums {}".format(probs.shape, probs.sum(axis=1))
        )
    print("DeepID forward pass: output", probs.shape, "rows sum to 1")
    try:
        gpus = tf.config.experimental.list_physical_devices("GPU")
    except AttributeError:  # very old TF 1.x
        gpus = []
    print("GPUs visible to TensorFlow:", len(gpus))
    print("selftest OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
