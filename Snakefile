# Backdoor-defense evaluation on the CSAW-HackML-2020 BadNets (DeepID face models).
# Default config: the embedded demo benchmark, built offline. Real challenge: config/csaw.yaml.
from snakemake.utils import min_version

min_version("8.0")


configfile: "config.yaml"


# Front page of `snakemake --report`: what was run and how to read the overview figure.
report: "report/workflow.rst"


include: "rules/common.smk"


wildcard_constraints:
    badnet="|".join(BADNETS) or "no-badnet",
    demo_model="|".join(DEMO_MODELS) or "no-demo-model",
    drop=r"\d+(\.\d+)?",


# Image of every job under --use-apptainer (config `container`; containers/README.md).
container: config["container"] or None


include: "rules/demo.smk"
include: "rules/csaw_data.smk"
include: "rules/baseline.smk"


# Each defense's rules: one file under rules/, named by its entry in the defense registry
# (scripts/bdeval/defenses.py); README "Adding a defense".
for _rule_file in defense_rule_files():

    include: _rule_file


include: "rules/summary.smk"


# Environment of every job under --software-deployment-method conda (rules that name none).
for _rule in workflow.rules:
    if _rule.shellcmd and _rule.conda_env is None:
        _rule.conda_env = os.path.join(workflow.basedir, "envs", "bdeval.yaml")


rule all:
    default_target: True
    input:
        all_targets(),
