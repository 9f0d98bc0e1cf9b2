"""Result rows: one dict per badnet x defense x drop% x model variant, and the wide table built from them.

A row holds scalar fields and nested dicts such as {"asr": {"sunglasses": 0.99}}; tables
flatten the dicts into columns like `asr:sunglasses`, so any defense can add fields.
"""

import math

from . import defenses
from . import outputs

NO_POISONED_DATA = "no poisoned data"
KEY_COLUMNS = ["badnet", "defense", "drop_pct", "variant"]
# Fields every defense may write that hold fractions (a defense adds its own in the registry).
FRACTION_COLUMNS = (
    "clean_acc_valid",
    "clean_acc_test",
    "asr",
    "asr_mean",
    "asr_max",
    "detection",
    "detection_mean",
    "false_alarm_clean",
)
LEADING_COLUMNS = ["clean_acc_valid", "clean_acc_test", "asr_mean", "asr_max", "detection_mean"]


def make_row(badnet, defense, drop_pct, variant, **fields):
    row = {"badnet": badnet, "defense": defense, "drop_pct": drop_pct, "variant": variant}
    row.update(fields)
    asr = fields.get("asr") or {}
    if asr:
        row["asr_mean"] = sum(asr.values()) / len(asr)
        row["asr_max"] = max(asr.values())
    elif "asr" in fields:
        row["note"] = "; ".join(n for n in (NO_POISONED_DATA, fields.get("note")) if n)
    detection = fields.get("detection") or {}
    if detection:
        row["detection_mean"] = sum(detection.values()) / len(detection)
    return row


def mark_test_overspend(rows, slack_pct=5.0):
    """Check every defense's budget on the clean TEST images, which no defense saw: a row whose
    clean test accuracy lies more than drop% + slack_pct points below its badnet's gets
    `test_within_budget` 0 and a note saying so; the others 1. The drop% promise was only ever
    held on the defender's own clean images; this says where it did not carry over."""
    base = {r["badnet"]: r.get("clean_acc_test") for r in rows if r.get("defense") == "none"}
    for r in rows:
        before, after = base.get(r["badnet"]), r.get("clean_acc_test")
        if r.get("drop_pct") is None or before is None or after is None:
            continue
        lost = 100.0 * (before - after)
        r["test_within_budget"] = int(lost <= float(r["drop_pct"]) + slack_pct + 1e-9)
        if not r["test_within_budget"]:
            words = (
                "clean test accuracy {:.1f} points below the badnet's: over the {:g} % budget on "
                "unseen images".format(lost, float(r["drop_pct"]))
            )
            r["note"] = "; ".join(n for n in (r.get("note"), words) if n)
    return rows


def flatten(row):
    flat = {}
    for key, value in row.items():
        if isinstance(value, dict):
            for sub, subvalue in value.items():
                flat["{}:{}".format(key, sub)] = subvalue
        elif isinstance(value, (list, tuple)):
            flat[key] = ";".join(str(v) for v in value)
        else:
            flat[key] = value
    return flat


def _sort_key(row):
    drop = row.get("drop_pct")
    return (
        str(row.get("badnet")),
        row.get("defense") != "none",
        str(row.get("defense")),
        -1 if drop is None else float(drop),
        str(row.get("variant")),
    )


def table(rows):
    """(columns, flat rows) ordered: keys, leading metrics, then every other column sorted."""
    flat = [flatten(r) for r in sorted(rows, key=_sort_key)]
    seen = set()
    for r in flat:
        seen.update(r)
    lead = [c for c in KEY_COLUMNS + LEADING_COLUMNS if c in seen]
    rest = sorted(seen - set(lead), key=lambda c: (c == "note", c.split(":")[0], c))
    return lead + rest, flat


def fmt(value, percent):
    """A cell: '' for None, a float with 6 significant digits (percent: x100 with 2 decimals)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return "{:.2f}".format(100 * value) if percent else "{:.6g}".format(value)
    return str(value)


# The common fraction fields and those the registered defenses add, gathered once.
_FRACTION_FIELDS = frozenset(FRACTION_COLUMNS + defenses.fraction_columns())


def is_fraction_column(column):
    """Columns holding fractions, shown as percentages in the Markdown tables."""
    return column.split(":")[0] in _FRACTION_FIELDS or column.startswith(("goodnet_", "frr", "far"))


def write_csv(path, columns, flat):
    """The wide table: one line per row, one column per field (fractions as fractions)."""
    outputs.write_csv(path, columns, ([fmt(r.get(c), False) for c in columns] for r in flat))
