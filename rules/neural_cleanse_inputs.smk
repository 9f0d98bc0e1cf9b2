# Neural Cleanse: the inputs and arguments its rules compute from the config (helpers of
# rules/neural_cleanse.smk, kept apart from the rules as Snakemake's linter asks).


def nc_scanned_labels(badnet):
    """Labels 0..n-1 that the scan covers: all, unless neural_cleanse.max_labels caps them."""
    n, cap = BADNETS[badnet]["n_classes"], config["neural_cleanse"]["max_labels"]
    return min(n, cap) if cap else n


def nc_shards(badnet):
    n, size = nc_scanned_labels(badnet), config["neural_cleanse"]["shard_size"]
    return ["{}-{}".format(a, min(a + size, n) - 1) for a in range(0, n, size)]


def nc_screen_shards(wildcards):
    return expand(
        "results/{badnet}/neural_cleanse/shards/{shard}.npz",
        badnet=wildcards.badnet,
        shard=nc_shards(wildcards.badnet),
    )


def nc_refine_parts(wildcards):
    """The refinement jobs' outputs; none when refinement is off."""
    refine = config["neural_cleanse"]["refine"]
    if not refine["enabled"]:
        return []
    return expand(
        "results/{badnet}/neural_cleanse/refine/part_{part}.npz",
        badnet=wildcards.badnet,
        part=range(refine["jobs"]),
    )


def nc_refine_plan(wildcards):
    if not config["neural_cleanse"]["refine"]["enabled"]:
        return []
    return "results/{}/neural_cleanse/refine/plan.json".format(wildcards.badnet)


def nc_trigger_rows_args(wildcards):
    """--trigger-rows of the poisoned sets whose trigger region (image rows) is known."""
    return " ".join(
        "--trigger-rows {}".format(shlex.quote("{}:{}:{}".format(p["trigger"], *p["rows"])))
        for p in BADNETS[wildcards.badnet]["poisoned"]
        if p.get("rows")
    )
