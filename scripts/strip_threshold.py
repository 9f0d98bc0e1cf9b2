#!/usr/bin/env python
"""STRIP at one drop%: entropy threshold, FRR/FAR and the GoodNet's figures, from the entropy file.

Cheap (no forward pass): reads strip_entropy.py's .npz. The threshold is set on the clean
validation entropies so that the false rejection rate (FRR) there is drop% (method
'percentile', at most drop%) or by the paper's normal fit (method 'normal'). Inputs with an
entropy below the threshold are flagged: the GoodNet answers N for them, the badnet's label
otherwise. FAR of a poisoned set = fraction of its inputs NOT flagged.
"""

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from bdeval import strip  # noqa: E402
from bdeval.drops import drop_pct  # noqa: E402
from bdeval.errors import run_cli  # noqa: E402
from bdeval.goodnet import save_spec  # noqa: E402
from bdeval.metrics import accuracy, goodnet_metrics  # noqa: E402
from bdeval.outputs import write_json  # noqa: E402
from bdeval.rows import make_row  # noqa: E402
from bdeval.strip_store import load_entropies  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entropies", required=True, help="strip_entropy.py output (.npz)")
    parser.add_argument(
        "--drop", required=True, type=drop_pct, help="clean-accuracy budget (%%), in (0, 100)"
    )
    parser.add_argument("--method", default="percentile", choices=strip.THRESHOLD_METHODS)
    parser.add_argument("--out-json", required=True, help="threshold, FRR, FAR, GoodNet figures")
    parser.add_argument("--out-rows", required=True, help="summary rows (defense 'strip', variant 'goodnet')")
    parser.add_argument("--out-spec", required=True, help="GoodNet spec (kind 'strip')")
    return parser.parse_args(argv)


def figures(meta, sets, thresh):
    """FRR on the clean sets, FAR per poisoned set and the GoodNet's metrics at one threshold."""
    n_classes = meta["n_classes"]
    valid, test = sets["clean_validation"], sets["clean_test"]
    answers = {
        name: strip.goodnet_labels(s["pred"], s["entropy"], thresh, n_classes) for name, s in sets.items()
    }
    poisoned = {p["trigger"]: (answers["poisoned_" + p["trigger"]], p["target"]) for p in meta["poisoned"]}
    good = goodnet_metrics(answers["clean_test"], test["label"], poisoned, n_classes)
    result = {
        "threshold": thresh,
        "frr_valid": strip.rejection_rate(valid["entropy"], thresh),
        "frr_test": strip.rejection_rate(test["entropy"], thresh),
        "far": {
            p["trigger"]: strip.acceptance_rate(sets["poisoned_" + p["trigger"]]["entropy"], thresh)
            for p in meta["poisoned"]
        },
        "clean_acc_valid": accuracy(answers["clean_validation"], valid["label"]),
        "clean_acc_test": good["clean_acc_test"],
        "asr": good["asr"],
        "detection": good["detection"],
    }
    return result


def main(argv=None):
    args = parse_args(argv)
    drop = args.drop
    meta, sets = load_entropies(args.entropies)
    thresh = strip.threshold(sets["clean_validation"]["entropy"], drop, args.method)
    result = figures(meta, sets, thresh)
    other = [m for m in strip.THRESHOLD_METHODS if m != args.method][0]
    alt = figures(meta, sets, strip.threshold(sets["clean_validation"]["entropy"], drop, other))
    logging.info(
        "%s drop %g %%: %s threshold %.4f bits; FRR validation %.2f %%, test %.2f %%; FAR %s",
        meta["badnet"],
        drop,
        args.method,
        thresh,
        100 * result["frr_valid"],
        100 * result["frr_test"],
        ", ".join("{} {:.2f} %".format(k, 100 * v) for k, v in sorted(result["far"].items())) or "-",
    )
    badnet_acc = {
        name: accuracy(sets[name]["pred"], sets[name]["label"]) for name in ("clean_validation", "clean_test")
    }
    report = dict(result)
    report.update(
        {
            "badnet": meta["badnet"],
            "drop_pct": drop,
            "method": args.method,
            "n_blends": meta["n_blends"],
            "blend": meta["blend"],
            "weight": meta["weight"],
            "seed": meta["seed"],
            "n": {name: int(len(s["entropy"])) for name, s in sets.items()},
            "mean_entropy": {name: float(np.mean(s["entropy"])) for name, s in sets.items()},
            "badnet_clean_acc": badnet_acc,
            "alternative_method": dict(alt, method=other),
        }
    )
    fields = {k: result[k] for k in ("clean_acc_valid", "clean_acc_test", "asr", "detection")}
    row = make_row(
        meta["badnet"],
        "strip",
        drop,
        "goodnet",
        threshold=thresh,
        frr_valid=result["frr_valid"],
        frr_test=result["frr_test"],
        far=result["far"],
        method=args.method,
        n_blends=meta["n_blends"],
        **fields,
    )
    spec = {
        "kind": "strip",
        "badnet": meta["badnet"],
        "weights": meta["weights"],
        "n_classes": meta["n_classes"],
        "scaling": meta["scaling"],
        "threshold": thresh,
        "method": args.method,
        "drop_pct": drop,
        "n_blends": meta["n_blends"],
        "blend": meta["blend"],
        "weight": meta["weight"],
        "seed": meta["seed"],
        "blend_pool": meta["blend_pool"],
        "batch_size": meta["batch_size"],
    }
    write_json(args.out_json, report)
    write_json(args.out_rows, [row])
    save_spec(args.out_spec, spec)
    return 0


if __name__ == "__main__":
    run_cli(main)
