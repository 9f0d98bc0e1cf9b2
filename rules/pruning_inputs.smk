# Pruning: the inputs and outputs its rules compute from the config (helpers of
# rules/pruning.smk, kept apart from the rules as Snakemake's linter asks).


def pruning_drop_files(pattern):
    """One output of the pruning job per configured drop%, in config order: `pattern` with
    {drop} filled in and its other wildcards ({badnet}) left as they are."""
    return [pattern.replace("{drop}", drop_label(d)) for d in config["drops"]]
