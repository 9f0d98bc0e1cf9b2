#!/usr/bin/env python
"""Our Neural Cleanse versus IBM ART's, in one run, on the same real badnet, labels and clean images:
seconds per label, the ratio ART / ours, the separation of the backdoor target (its mask L1 over the
median L1 of the sample's other labels; smaller is better) and its rank, and peak memory per process.

    .venv/bin/python benchmarks/bench_nc_vs_art.py [--net sunglasses] [--labels 0,3,17,...] [--art-labels K]

Ours runs in this process as the workflow's defaults do (bdeval.neural_cleanse.core: the `default`
screening of all sample labels, then the `refine` stage from fresh seeded starts, `refine.restarts`
(3) of them per label as for the workflow's candidates, the median run kept). ART (adversarial-robustness-toolbox, Keras 3) runs with its
defaults in a subprocess under a separate venv, benchmarks/art_nc_worker.py; create that venv with

    python3.11 -m venv .venv-art && .venv-art/bin/pip install adversarial-robustness-toolbox tensorflow-cpu h5py numpy

Without it the benchmark prints that command and exits 0 ("skipped"). Uses ../shared/csaw (the
badnet's weights, and the 60 faces of clean_test_subset.h5 as the clean images).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "scripts"))

from bdeval.datasets import load_dataset  # noqa: E402
from bdeval.inference import scale  # noqa: E402

CSAW = os.path.join(REPO, "..", "shared", "csaw")
N_CLASSES = 1283
RESTARTS = 3  # the workflow's refine.restarts: starts per candidate
CANDIDATES, REFERENCE = 16, 48  # the workflow's refine.candidates and refine.reference
ART_PYTHON = os.path.join(REPO, ".venv-art", "bin", "python")
ART_WORKER = os.path.join(HERE, "art_nc_worker.py")
ART_VENV_COMMAND = (
    "python3.11 -m venv .venv-art && .venv-art/bin/pip install "
    "adversarial-robustness-toolbox tensorflow-cpu h5py numpy"
)
# net: (weight file under models/, input scaling, backdoor target(s))
NETS = {
    "sunglasses": ("sunglasses_bd_weights.h5", "x/255", [0]),
    "anonymous_1": ("anonymous_1_bd_weights.h5", "x/255", [0]),
    "anonymous_2": ("anonymous_2_bd_weights.h5", "x/255", [4]),  # suspected: answers 4 on every trigger
    "multi_trigger_multi_target": ("multi_trigger_multi_target_bd_weights.h5", "x/255", [1, 5, 8]),
    "lab3": ("lab3/bd_weights.h5", "raw", [0]),
}
OUR_KEYS = [
    "epochs",
    "epoch_steps",
    "mini_batch",
    "images_per_label",
    "learning_rate",
    "init_cost",
    "lambda_start",
    "early_stop_patience",
]
DEFAULT_SAMPLE = [0, 3, 17, 120, 345, 611, 902, 1200]


def default_labels(targets, n=8):
    """The net's target(s) first, then the fixed sample, n labels in all."""
    labels = list(targets)
    for label in DEFAULT_SAMPLE:
        if len(labels) < n and label not in labels:
            labels.append(label)
    return labels


def separation(l1, labels, targets):
    """[(target, its L1, median L1 of the other non-target labels, ratio, rank among labels)]."""
    norms = dict(zip(labels, l1))
    others = [norms[y] for y in labels if y not in targets]
    median = float(np.median(others)) if others else float("nan")
    order = sorted(labels, key=lambda y: norms[y])
    return [
        (t, norms[t], median, norms[t] / median if others else float("nan"), order.index(t) + 1)
        for t in targets
        if t in norms
    ]


def print_separation(name, rows, n_labels):
    if not rows:
        print("  {:<22} no target among its labels".format(name))
    for t, l1, median, ratio, rank in rows:
        print(
            "  {:<22} target {}: L1 {:7.1f}, median of others {:7.1f}, target/median {:.3f}, "
            "rank {}/{}".format(name, t, l1, median, ratio, rank, n_labels)
        )


def attack_success(predict, x, y, mask, pattern, label, pattern_scale):
    """Fraction of the clean images not of class `label` that the trigger sends to `label`."""
    others = y != label
    mixed = (1.0 - mask[:, :, None]) * x[others] + mask[:, :, None] * pattern * pattern_scale
    return float(np.mean(np.argmax(predict(mixed.astype(np.float32)), axis=1) == label))


def run_ours(args, weights, scaling, x, y, labels):
    from bdeval import tfcompat
    from bdeval.neural_cleanse import core as nc_core, refine as nc_refine

    tfcompat.configure(args.seed, args.threads)
    from bdeval.neural_cleanse.tf_loss import TriggerLoss
    from bdeval.weights import load_model

    pattern_scale = 255.0 if scaling == "raw" else 1.0
    model = load_model(weights, N_CLASSES)
    predict = tfcompat.batch_predictor(model)
    loss = TriggerLoss(model, pattern_scale)
    screen_settings, refine_settings = nc_core.settings_for("default"), nc_core.settings_for("refine")
    nc_core.reverse_engineer(loss, x, y, labels[:1], screen_settings, args.seed)  # warm-up: tracing
    sys.stderr.write("[ours] screening {} labels\n".format(len(labels)))
    began = time.time()
    screened = nc_core.reverse_engineer(loss, x, y, labels, screen_settings, args.seed)
    t_screen = time.time() - began
    sys.stderr.write("[ours] refining {} labels, {} starts each\n".format(len(labels), RESTARTS))
    began = time.time()
    runs = [nc_core.reverse_engineer(loss, x, y, labels, refine_settings, args.seed)]
    t_refine = time.time() - began  # one refinement run per label
    for k in range(1, RESTARTS):
        runs.append(nc_core.reverse_engineer(loss, x, y, labels, refine_settings, args.seed + k))
    t_restarts = time.time() - began  # every start of every label
    refined = [nc_refine.combine_restarts([run[i] for run in runs]) for i in range(len(labels))]
    for r in screened + refined:
        r["asr"] = attack_success(predict, x, y, r["mask"], r["pattern"], r["label"], pattern_scale)
    clean_acc = float(np.mean(np.argmax(predict(x), axis=1) == y))
    return {
        "stack": tfcompat.stack_description(),
        "screened": screened,
        "refined": refined,
        "t_screen": t_screen,
        "t_refine": t_refine,
        "t_restarts": t_restarts,
        "clean_accuracy": clean_acc,
        "pools": (nc_core.pool_size(screen_settings, y), nc_core.pool_size(refine_settings, y)),
        "settings": (screen_settings, refine_settings),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def run_art(args, weights, scaling, x_raw, y, labels, tmp):
    """ART in its own venv; it gets x/255 and, for a raw-pixel net, a x255 input layer."""
    data, out = os.path.join(tmp, "art_in.npz"), os.path.join(tmp, "art_out.npz")
    extra = {} if args.art_steps is None else {"steps": args.art_steps}
    np.savez(
        data,
        weights=os.path.abspath(weights),
        n_classes=N_CLASSES,
        x=scale(x_raw, "x/255"),
        y=y,
        labels=np.asarray(labels),
        input_multiplier=255.0 if scaling == "raw" else 1.0,
        **extra,
    )
    cmd = [
        ART_PYTHON,
        ART_WORKER,
        "--data",
        data,
        "--out",
        out,
        "--threads",
        str(args.threads),
        "--seed",
        str(args.seed),
    ]
    sys.stderr.write("[art] {} labels: {}\n".format(len(labels), " ".join(cmd)))
    began = time.time()
    with open(os.path.join(tmp, "art_stdout.txt"), "w") as stdout:
        code = subprocess.call(cmd, stdout=stdout)
    wall = time.time() - began
    if code != 0:
        raise SystemExit("ART worker failed (exit {}); see its stderr above and {}".format(code, tmp))
    with np.load(out, allow_pickle=False) as res:
        found = dict((k, res[k]) for k in res.files)
    shutil.rmtree(tmp, ignore_errors=True)
    found["meta"] = json.loads(str(found["meta"]))
    found["wall"] = wall
    return found


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--net", choices=sorted(NETS), default="sunglasses")
    parser.add_argument(
        "--labels",
        help="comma-separated label sample (default: target(s) + {})".format(
            ",".join(str(v) for v in DEFAULT_SAMPLE)
        ),
    )
    parser.add_argument(
        "--art-labels",
        type=int,
        default=None,
        help="run ART on only the first K labels of the sample (ours always runs all)",
    )
    parser.add_argument(
        "--art-steps",
        type=int,
        default=None,
        help="override ART's default steps (smoke tests only; flagged in the output)",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    weight_file, scaling, targets = NETS[args.net]
    weights = os.path.join(CSAW, "models", weight_file)
    clean_path = os.path.join(CSAW, "data", "clean_test_subset.h5")
    if not (os.path.exists(weights) and os.path.exists(clean_path)):
        print("skipped: real CSAW data not found at {}".format(os.path.abspath(CSAW)))
        return 0
    if not os.path.exists(ART_PYTHON):
        print(
            "skipped: no ART venv at {}; create it (from the repository root) with:\n  {}".format(
                os.path.dirname(os.path.dirname(ART_PYTHON)), ART_VENV_COMMAND
            )
        )
        return 0
    labels = [int(v) for v in args.labels.split(",")] if args.labels else default_labels(targets)
    n_art = len(labels) if args.art_labels is None else max(1, min(args.art_labels, len(labels)))
    art_labels = labels[:n_art]

    clean = load_dataset(clean_path, N_CLASSES)
    x, y = scale(clean.x, scaling), clean.y

    # ART first, while this process is still small: a child's ru_maxrss starts from its parent's peak.
    tmp = tempfile.mkdtemp(prefix="bench_nc_vs_art_")
    art = run_art(args, weights, scaling, clean.x, y, art_labels, tmp)
    ours = run_ours(args, weights, scaling, x, y, labels)
    meta, defaults = art["meta"], art["meta"]["defaults"]

    n = len(labels)
    per_screen = ours["t_screen"] / n
    per_both = (ours["t_screen"] + ours["t_refine"]) / n
    per_art = float(np.mean(art["seconds"]))
    # ART's mask has the input's shape (55, 47, 3): one value per pixel and channel. Our mask is one
    # value per pixel; ART's own norm-1 regularizer divides the channel sum by 3, and so do we.
    art_l1 = [float(v) / 3.0 for v in art["l1_sum"]]
    art_l1_max = [float(v) for v in art["l1_chanmax"]]
    l1_screen = [r["l1_norm"] for r in ours["screened"]]
    l1_refine = [r["l1_norm"] for r in ours["refined"]]

    print(
        "net: {} ({}, scaling {}, backdoor target(s) {}); {} clean images (clean_test_subset.h5), "
        "seed {}".format(args.net, weight_file, scaling, ",".join(str(t) for t in targets), len(y), args.seed)
    )
    print(
        "ours: {}, python {}; ART {}: tensorflow {} / keras {}, python {}".format(
            ours["stack"],
            sys.version.split()[0],
            meta["art"],
            meta["tensorflow"],
            meta["keras"],
            meta["python"],
        )
    )
    print(
        "threads (intra/inter op): ours {0}/{0}, ART {1}/{2}; clean accuracy of the net: ours {3:.3f}, "
        "ART's Keras-3 copy {4:.3f}".format(
            args.threads,
            meta["threads"][0],
            meta["threads"][1],
            ours["clean_accuracy"],
            meta["clean_accuracy"],
        )
    )
    print(
        "labels: ours all {} [{}]; ART {}{}".format(
            n,
            ",".join(str(v) for v in labels),
            len(art_labels),
            "" if len(art_labels) == n else " (--art-labels {}: the first {} only)".format(n_art, n_art),
        )
    )
    print(
        "ART settings{}: steps {steps} (x {batches_per_step} mini-batch of {batch_size} per step), "
        "lr {learning_rate}, Adam betas {adam_betas}, init_cost {init_cost}, norm {norm} (L{norm} "
        "regularizer), patience {patience}, early_stop {early_stop} (threshold {early_stop_threshold}, "
        "patience {early_stop_patience}), cost x{cost_multiplier_up} up / /{down:.3f} down, "
        "attack threshold {attack_success_threshold}, mask shape {mask_shape}".format(
            " (NOT the default: --art-steps)" if meta["steps_override"] else " (its defaults)",
            down=defaults["cost_multiplier_down"],
            **defaults,
        )
    )
    for name, schedule, settings in zip(("screen", "refine"), ("default", "refine"), ours["settings"]):
        print(
            "ours {} (neural_cleanse.core.settings_for({!r})): {}".format(
                name, schedule, ", ".join("{} {}".format(k, settings.get(k)) for k in OUR_KEYS)
            )
        )
    for patch in meta["patches"]:
        print("ART patch: " + patch)
    print(
        "ART as is (not patched): its mask/pattern variables are not re-initialized between labels (a "
        "label starts where the previous one ended); it trains on all {} images (ours: a seeded pool of "
        "{}/{} (screen/refine) images not of the label's class)".format(len(y), *ours["pools"])
    )
    print(
        "ART mask L1 below = channel sum / 3 (the per-pixel L1 of ours; ART's outlier_detection ranks "
        "the channel sum, 3x, same ratios)"
    )
    print("")
    print(
        "seconds per label: ours screen {:.2f} ({:.0f} steps/label), screen+refine {:.2f} (+{:.0f} "
        "steps/label); ART {:.2f} ({:.0f} steps/label, final lambda {:.2g}..{:.2g}; worker wall {:.0f} s incl. "
        "start-up)".format(
            per_screen,
            np.mean([r["steps"] for r in ours["screened"]]),
            per_both,
            np.mean([r["steps"] for r in ours["refined"]]),
            per_art,
            np.mean(art["steps"]),
            float(np.min(art["final_cost"])),
            float(np.max(art["final_cost"])),
            art["wall"],
        )
    )
    print(
        "ratio ART / ours (s per label): vs screen {:.1f}x, vs screen+refine of every label {:.1f}x".format(
            per_art / per_screen, per_art / per_both
        )
    )
    per_candidate = (ours["t_screen"] + ours["t_restarts"]) / n
    print(
        "a candidate label's whole cost (screen + {} refinement starts): {:.2f} s, ART / ours {:.1f}x".format(
            RESTARTS, per_candidate, per_art / per_candidate
        )
    )
    # the product screens every label, then refines 16 candidates from 3 starts each and 48
    # reference labels from one: 96 refinement runs per 1283 labels
    refined_share = float(CANDIDATES * RESTARTS + REFERENCE) / N_CLASSES
    per_product = per_screen + refined_share * (per_both - per_screen)
    print(
        "ours as the workflow runs a 1283-label scan (all screened, 16 candidates x 3 starts + 48 "
        "reference refined): {:.2f} s per label, "
        "ART / ours {:.1f}x; whole scan {:.1f} min vs ART {:.1f} h".format(
            per_product, per_art / per_product, per_product * 1283 / 60, per_art * 1283 / 3600
        )
    )
    print("separation (target L1 / median L1 of the other sample labels; smaller is better):")
    print_separation("ours screen", separation(l1_screen, labels, targets), n)
    print_separation("ours screen+refine (median of 3 starts)", separation(l1_refine, labels, targets), n)
    if len(art_labels) < n:
        print_separation("ours s+r, ART's labels", separation(l1_refine[:n_art], art_labels, targets), n_art)
    print_separation("ART", separation(art_l1, art_labels, targets), len(art_labels))
    print_separation("ART (chan-max L1)", separation(art_l1_max, art_labels, targets), len(art_labels))
    print("")
    print(
        "{:>6} {:>11} {:>11} {:>11} {:>8} {:>8} {:>8}".format(
            "label", "ours screen", "ours refine", "ART", "ASR ours", "ASR ART", "ART s"
        )
    )
    art_by_label = dict((int(lab), i) for i, lab in enumerate(art["labels"]))
    for k, label in enumerate(labels):
        i = art_by_label.get(label)
        art_cols = (
            (
                "{:11.1f}".format(art_l1[i]),
                "{:8.2f}".format(float(art["asr"][i])),
                "{:8.1f}".format(float(art["seconds"][i])),
            )
            if i is not None
            else ("-", "-", "-")
        )
        print(
            "{:>6}{} {:11.1f} {:11.1f} {:>11} {:8.2f} {:>8} {:>8}".format(
                label,
                "*" if label in targets else " ",
                l1_screen[k],
                l1_refine[k],
                art_cols[0],
                ours["refined"][k]["asr"],
                art_cols[1],
                art_cols[2],
            )
        )
    print(
        "(* backdoor target; L1 = sum of the mask over 55x47 pixels; ASR = attack success of the "
        "reversed trigger on the clean images not of that label, ours after refine)"
    )
    hwm = meta.get("vmhwm_mb")
    print(
        "peak memory (ru_maxrss): ours {:.0f} MB (this process), ART {:.0f} MB (worker process{})".format(
            ours["maxrss_mb"],
            meta["maxrss_mb"],
            "" if hwm is None else "; its own VmHWM {:.0f} MB".format(hwm),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
