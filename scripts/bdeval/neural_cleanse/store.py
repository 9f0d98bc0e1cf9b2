"""Neural Cleanse files: per-label progress of a shard, shard results, and the run fingerprint."""

import hashlib
import json
import os

import numpy as np

from .. import INPUT_SHAPE
from ..outputs import atomic_path, file_digest

SCALARS = ["l1_norm", "attack_success", "success", "steps", "epochs", "lambda"]
OPTIONAL = ["test_attack_success"]  # refinement: the trigger's attack success on clean test images
RESTARTS = "restart_l1"  # refinement: the norm of every restart of a label (NaN-padded in files)


def fingerprint(settings, seed, weights, clean_validation, scaling, n_classes):
    """What a per-label result depends on; progress with another fingerprint is not reused."""
    text = json.dumps(
        {
            "settings": settings,
            "seed": int(seed),
            "weights": file_digest(weights),
            "clean_validation": file_digest(clean_validation),
            "scaling": scaling,
            "n_classes": int(n_classes),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode("utf8")).hexdigest()[:16]


def progress_path(directory, label):
    return os.path.join(str(directory), "label_{:05d}.npz".format(int(label)))


def save_label(directory, result, fprint):
    with atomic_path(progress_path(directory, result["label"])) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(
                handle,
                fingerprint=np.array(fprint),
                label=np.array(result["label"]),
                mask=result["mask"],
                pattern=result["pattern"],
                **{k: np.array(result[k]) for k in SCALARS + OPTIONAL if k in result},
            )


def load_label(directory, label, fprint):
    """The saved result of `label`, or None if absent, unreadable or from another run."""
    path = progress_path(directory, label)
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["fingerprint"]) != fprint or int(data["label"]) != int(label):
                return None
            result = {"label": int(label), "mask": data["mask"], "pattern": data["pattern"]}
            for key in SCALARS + [k for k in OPTIONAL if k in data.files]:
                result[key] = data[key].item()
    except (OSError, ValueError, KeyError):
        return None
    return result


def save_results(path, results, meta):
    """All labels of a shard (or of a whole scan) in one .npz, label order."""
    results = sorted(results, key=lambda r: r["label"])
    h, w, c = INPUT_SHAPE
    arrays = {
        "labels": np.array([r["label"] for r in results], np.int64),
        "masks": np.array([r["mask"] for r in results], np.float32).reshape(-1, h, w),
        "patterns": np.array([r["pattern"] for r in results], np.float32).reshape(-1, h, w, c),
        "meta": np.array(json.dumps(meta, sort_keys=True)),
    }
    for key in SCALARS + [k for k in OPTIONAL if all(k in r for r in results)]:
        arrays[key] = np.array([r[key] for r in results])
    if any(RESTARTS in r for r in results):
        runs = [r.get(RESTARTS, []) for r in results]  # a label without restarts: all NaN
        padded = np.full((len(runs), max(len(v) for v in runs)), np.nan)
        for i, v in enumerate(runs):
            padded[i, : len(v)] = v
        arrays[RESTARTS] = padded
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)


def load_results(path):
    """(list of result dicts, meta dict) from save_results' file."""
    with np.load(
        str(path), allow_pickle=False
    ) as data:  # read each array once: an npz decompresses per access
        keys = (
            ["labels", "masks", "patterns", "meta"]
            + SCALARS
            + [k for k in OPTIONAL + [RESTARTS] if k in data.files]
        )
        arrays = {key: data[key] for key in keys}
    meta = json.loads(str(arrays["meta"]))
    results = []
    for i, label in enumerate(arrays["labels"]):
        result = {"label": int(label), "mask": arrays["masks"][i], "pattern": arrays["patterns"][i]}
        for key in SCALARS + [k for k in OPTIONAL if k in arrays]:
            result[key] = arrays[key][i].item()
        runs = [float(v) for v in arrays[RESTARTS][i] if not np.isnan(v)] if RESTARTS in arrays else []
        if runs:
            result[RESTARTS] = runs
        results.append(result)
    return results, meta
