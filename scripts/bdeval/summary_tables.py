"""The summary's two forms beyond the wide table (plain Python, no pandas):

- tidy (long) CSV: one line per badnet x defense x drop% x variant x metric x trigger, the value
  a number (fractions as fractions); text fields (note, method, nc_flagged, nc_schedule) stay
  in the wide CSV and the Markdown, so that the `value` column is numeric throughout;
- compact Markdown: per badnet one table of at most MAX_COLUMNS columns (percentages), per-trigger
  ASRs beside it or in a second small table, then Neural Cleanse's MAD table.

Input everywhere: the flat rows of bdeval.rows.table (keys badnet, defense, drop_pct, variant and
columns such as `asr:<trigger>`).
"""

from . import defenses
from .outputs import atomic_path
from .rows import KEY_COLUMNS, fmt, is_fraction_column

MAX_COLUMNS = 10
TIDY_COLUMNS = KEY_COLUMNS + ["metric", "trigger", "value"]
VARIANT_ORDER = ("badnet", "repaired", "goodnet")
# Compact columns: (header, function of a flat row -> cell); the key columns come first.
KEY_HEADERS = ["defense", "drop%", "variant"]
LEGEND = (
    "Percentages. Per badnet one row per defense, drop% (clean-accuracy budget) and variant. "
    "ASR max: the largest attack success rate over the badnet's triggers; detection: the mean "
    "over triggers of poisoned images the GoodNet answers with N; false alarms: clean test images "
    "it answers with N (STRIP: its FRR on the clean test set); pruned / flagged: conv_3 channels "
    "pruned, or the labels Neural Cleanse flagged. **Bold** defense: the lowest ASR max at that "
    "drop% (ties: the higher clean test accuracy) among the rows whose clean test accuracy stayed "
    "within drop% + 5 points of the badnet's; a row that did not says so in its note. Every figure, as fractions: summary_wide.csv "
    "(one row per line) and summary.csv (one value per line)."
)
MAD_HEADERS = [
    "badnet",
    "flagged",
    "anomaly index",
    "weak (not flagged)",
    "undecided",
    "target index",
    "target rank",
    "missed targets",
    "verdict",
]
MAD_FIELDS = [
    "badnet",
    "flagged",
    "anomaly_indices",
    "weak",
    "undecided",
    "target_indices",
    "target_ranks",
    "missed_targets",
    "verdict",
]


# --- tidy CSV -------------------------------------------------------------------------------


def _number(value):
    """The value as a number (booleans as 1/0), or None for text and empty cells."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    return None


def tidy(columns, flat):
    """(TIDY_COLUMNS, lines) of the wide table (columns, flat rows): every numeric cell."""
    lines = []
    for r in flat:
        keys = [fmt(r.get(c), False) for c in KEY_COLUMNS]
        for column in columns:
            value = None if column in KEY_COLUMNS else _number(r.get(column))
            if value is not None:
                metric, _, trigger = column.partition(":")
                lines.append(keys + [metric, trigger, fmt(value, False)])
    return TIDY_COLUMNS, lines


# --- compact Markdown -------------------------------------------------------------------------


def _pct(field):
    return lambda r: fmt(r.get(field), is_fraction_column(field))


def _false_alarms(r):
    field = "false_alarm_clean" if r.get("false_alarm_clean") is not None else "frr_test"
    return _pct(field)(r)


def _pruned_or_flagged(r):
    if r.get("nc_flagged") not in (None, ""):
        return "labels {}".format(str(r["nc_flagged"]).replace(";", ", "))
    if r.get("channels_pruned") and r.get("channels_total"):
        return "{}/{} channels".format(r["channels_pruned"], r["channels_total"])
    return ""


MAIN_COLUMNS = [
    ("clean test (%)", _pct("clean_acc_test")),
    ("ASR max (%)", _pct("asr_max")),
    ("detection (%)", _pct("detection_mean")),
    ("false alarms (%)", _false_alarms),
    ("pruned / flagged", _pruned_or_flagged),
    ("note", lambda r: fmt(r.get("note"), False)),
]


def _order(r):
    names = defenses.names()
    defense = r["defense"]
    drop = r.get("drop_pct")
    variant = r.get("variant")
    return (
        defense != "none",
        -1.0 if drop is None else float(drop),
        names.index(defense) if defense in names else len(names),
        str(defense),
        VARIANT_ORDER.index(variant) if variant in VARIANT_ORDER else len(VARIANT_ORDER),
        str(variant),
    )


def _best(rows):
    """ids of the rows with the lowest ASR max at their drop% (ties: the higher clean test
    accuracy) among those that kept the budget on the clean test images (test_within_budget);
    none where only one defense has such rows at that drop%."""
    by_drop = {}
    for r in rows:
        kept = r.get("test_within_budget") in (None, 1, "1", True)
        if r["defense"] != "none" and r.get("asr_max") is not None and kept:
            by_drop.setdefault(r.get("drop_pct"), []).append(r)
    best = set()
    for group in by_drop.values():
        if len({r["defense"] for r in group}) < 2:
            continue

        def key(r):
            return (r["asr_max"], -(r.get("clean_acc_test") or 0.0))

        top = min(key(r) for r in group)
        best.update(id(r) for r in group if key(r) == top)
    return best


def _keys(r, best):
    defense = "**{}**".format(r["defense"]) if id(r) in best else r["defense"]
    return [defense, fmt(r.get("drop_pct"), False), fmt(r.get("variant"), False)]


def _triggers(rows):
    return sorted({c.split(":", 1)[1] for r in rows for c in r if c.startswith("asr:")})


def compact_tables(rows):
    """[(title or None, header, lines)] of one badnet's flat rows: the main table and, where the
    per-trigger ASRs do not fit beside it, tables of them (each at most MAX_COLUMNS wide)."""
    rows = sorted(rows, key=_order)
    best = _best(rows)
    columns = [(h, f) for h, f in MAIN_COLUMNS if h == "clean test (%)" or any(f(r) != "" for r in rows)]
    triggers = _triggers(rows) if len(_triggers(rows)) > 1 else []
    per_trigger = [("ASR {} (%)".format(t), _pct("asr:" + t)) for t in triggers]
    tables = []
    if len(KEY_HEADERS) + len(columns) + len(per_trigger) <= MAX_COLUMNS:
        at = 1 + [h for h, _ in columns].index("ASR max (%)") if per_trigger else 0
        columns = columns[:at] + per_trigger + columns[at:]
        per_trigger = []
    tables.append((None, columns))
    width = MAX_COLUMNS - len(KEY_HEADERS)
    for start in range(0, len(per_trigger), width):
        tables.append(("ASR per trigger (%)", per_trigger[start : start + width]))
    return [
        (title, KEY_HEADERS + [h for h, _ in cols], [_keys(r, best) + [f(r) for _, f in cols] for r in rows])
        for title, cols in tables
    ]


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(header, lines):
    """The lines of one Markdown table."""
    out = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(c) for c in line) + " |" for line in lines]
    return out


def markdown(flat, mad_rows=()):
    """The summary's Markdown text: the legend, per badnet its compact tables, then the MAD table
    of Neural Cleanse (mad_rows: bdeval.mad_table.row of each badnet's nc.json) when given."""
    out = ["# Results", "", LEGEND]
    for badnet in sorted({r["badnet"] for r in flat}):
        out += ["", "## {}".format(badnet)]
        for title, header, lines in compact_tables([r for r in flat if r["badnet"] == badnet]):
            out += ["", "{}:".format(title), ""] if title else [""]
            out += markdown_table(header, lines)
    if mad_rows:
        out += [
            "",
            "## Neural Cleanse: MAD outlier test",
            "",
            "Flagged: anomaly index above `neural_cleanse.threshold` (paper: 2), and on scans of "
            "over 100 labels a trigger `separation` (2) times smaller than the smallest one not "
            "flagged; weak: passes the paper's threshold but does not stand apart, as the smallest "
            "of 1283 ordinary labels' triggers: reported, not flagged, not acted on; undecided: below the median with an index from `near_threshold` to the threshold; "
            "target rank: of the known target's trigger norm, 1 = smallest. results/mad.csv has "
            "every column.",
            "",
        ]
        out += markdown_table(MAD_HEADERS, [[r[f] for f in MAD_FIELDS] for r in mad_rows])
    return "\n".join(out) + "\n"


def write_markdown(path, flat, mad_rows=()):
    with atomic_path(path) as tmp:
        with open(tmp, "w") as handle:
            handle.write(markdown(flat, mad_rows))
