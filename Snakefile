# Backdoor-defense evaluation on the CSAW-HackML-2020 BadNets (DeepID face models).
# Default config: the embedded demo benchmark, built offline. Real challenge: config/csaw.yaml.
from snakemake.utils import min_version

min_version("8.0")


configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/demo.smk"
include: "rules/baseline.smk"
include: "rules/summary.smk"


rule all:
    input:
        "results/summary.csv",
        "results/summary.md",
    default_target: True
