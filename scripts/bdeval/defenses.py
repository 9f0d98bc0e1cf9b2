"""The defense registry: one entry per defense says all the workflow needs to know of it.

A defense is one room: its rules in `rules/<rule_file>`, its scripts and modules, and one entry
here. From these entries the Snakefile includes the rule files, the summary reads the row files,
the default run draws the plots (which carry their report captions in the rule file), the
per-image command offers the defense and answers with its GoodNet kind, and the Markdown table
shows the fraction columns as percentages. Plain Python: Snakemake and every script import it.

Fields of an entry:
  name              the `defenses:` name in config.yaml and the results/BADNET/NAME folder
  rule_file         file under rules/ holding its rules (several defenses may share one)
  rows              per-job result-row file, with {badnet} and, per drop%, {drop}
  goodnet_kinds     {GoodNet spec kind: module providing goodnet_answer(spec, x_raw, batch_size)}
  plots             per-badnet figures ({badnet}) the default run draws and the report shows
  tables            workflow-wide outputs the default run makes (not per badnet)
  fraction_columns  result-row fields holding fractions beyond the common ones
"""

from collections import namedtuple

Defense = namedtuple(
    "Defense", ["name", "rule_file", "rows", "goodnet_kinds", "plots", "tables", "fraction_columns"]
)


def defense(name, rule_file, goodnet_kinds, plots=(), tables=(), fraction_columns=(), rows=None):
    """An entry; rows default to results/{badnet}/rows/NAME_{drop}.json."""
    rows = rows or "results/{badnet}/rows/" + name + "_{drop}.json"
    return Defense(
        name, rule_file, rows, dict(goodnet_kinds), tuple(plots), tuple(tables), tuple(fraction_columns)
    )


REGISTRY = (
    defense(
        "pruning",
        "pruning.smk",
        {"disagreement": "bdeval.goodnet"},
        plots=[
            "results/{badnet}/pruning/plots/pruning_curve.png",
            "results/{badnet}/pruning/plots/activation_maps.png",
        ],
    ),
    defense("fine_pruning", "pruning.smk", {"disagreement": "bdeval.goodnet"}),
    defense(
        "strip",
        "strip.smk",
        {"strip": "bdeval.strip_model"},
        plots=[
            "results/{badnet}/strip/plots/entropy_histograms.png",
            "results/{badnet}/strip/plots/far_frr.png",
        ],
    ),
    defense(
        "neural_cleanse",
        "neural_cleanse.smk",
        {"neural_cleanse": "bdeval.neural_cleanse.filter"},
        plots=["results/{badnet}/neural_cleanse/gallery.png"],
        tables=["results/mad.csv"],
    ),
    defense(
        "nc_unlearning",
        "nc_repair.smk",
        {"disagreement": "bdeval.goodnet"},
        fraction_columns=["check_trigger_rate", "stamp_fraction"],
    ),
    defense(
        "nc_pruning",
        "nc_repair.smk",
        {"disagreement": "bdeval.goodnet"},
        fraction_columns=["check_trigger_rate"],
    ),
)

# The undefended badnet's rows: not a defense, but read by the summary the same way.
BASELINE_ROWS = "results/{badnet}/rows/none.json"


def names():
    return tuple(d.name for d in REGISTRY)


def get(name):
    """The entry of `name`; ValueError listing the known defenses otherwise."""
    for d in REGISTRY:
        if d.name == name:
            return d
    raise ValueError("unknown defense {!r}; known: {}".format(name, ", ".join(names())))


def rule_files():
    """rules/ files to include, each once, in registry order."""
    files = []
    for d in REGISTRY:
        if d.rule_file not in files:
            files.append(d.rule_file)
    return files


def goodnet_kinds():
    """{kind: module} over all defenses, plus the undefended badnet's own kind."""
    kinds = {"badnet": "bdeval.goodnet"}
    for d in REGISTRY:
        for kind, module in d.goodnet_kinds.items():
            if kinds.get(kind, module) != module:
                raise ValueError("GoodNet kind {!r} is claimed by two modules".format(kind))
            kinds[kind] = module
    return kinds


def fraction_columns():
    return tuple(c for d in REGISTRY for c in d.fraction_columns)
