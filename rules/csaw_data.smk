# Real challenge files: downloaded (or copied from csaw.local_dir) and verified; clean splits.
# Their names come from bdeval/csaw_assets.py, as in scripts/fetch_csaw.py (SCRIPTS is on
# sys.path: rules/common.smk).
from bdeval import csaw_assets

CSAW = config["csaw"]


localrules:
    csaw_weights,
    csaw_images,
    csaw_lab3_images,


rule csaw_weights:
    output:
        os.path.join(CSAW["dest"], "weights", "{net}_bd_weights.h5"),
    log:
        log_path("csaw/weights_{net}"),
    benchmark:
        bench_path("csaw/weights_{net}")
    wildcard_constraints:
        net="|".join(csaw_assets.WEIGHTS),
    params:
        commit=CSAW["commit"],
        local=csaw_local_arg(),
    shell:
        f"{PYTHON} {SCRIPTS}/fetch_csaw.py"
        " weights {wildcards.net} --out {output}"
        " --commit {params.commit} {params.local} > {log} 2>&1"


rule csaw_images:
    output:
        [os.path.join(CSAW["dest"], rel) for rel in csaw_assets.CHALLENGE_DATA],
    log:
        log_path("csaw/images"),
    benchmark:
        bench_path("csaw/images")
    params:
        dest=lambda wildcards: CSAW["dest"],
        local=csaw_local_arg(),
    shell:
        f"{PYTHON} {SCRIPTS}/fetch_csaw.py" " data challenge --dest {params.dest} {params.local} > {log} 2>&1"


rule csaw_lab3_images:
    output:
        [os.path.join(CSAW["dest"], rel) for rel in csaw_assets.LAB3_DATA],
    log:
        log_path("csaw/lab3_images"),
    benchmark:
        bench_path("csaw/lab3_images")
    params:
        dest=lambda wildcards: CSAW["dest"],
        local=csaw_local_arg(),
    shell:
        f"{PYTHON} {SCRIPTS}/fetch_csaw.py" " data lab3 --dest {params.dest} {params.local} > {log} 2>&1"


for _index, _split in enumerate(config["splits"]):

    rule:
        name:
            "split_{}".format(_index)
        input:
            _split["source"],
        output:
            validation=_split["validation"],
            test=_split["test"],
        log:
            log_path("splits/split_{}".format(_index)),
        benchmark:
            bench_path("splits/split_{}".format(_index))
        params:
            fraction=_split["validation_fraction"],
            seed=config["seed"],
        shell:
            f"{PYTHON} {SCRIPTS}/split_dataset.py"
            " {input:q} --validation {output.validation:q}"
            " --test {output.test:q} --validation-fraction {params.fraction} --seed {params.seed}"
            " > {log} 2>&1"
