# Real challenge files: downloaded (or copied from csaw.local_dir) and verified; clean splits.
CSAW = config["csaw"]


localrules:
    csaw_weights,
    csaw_images,
    csaw_lab3_images,


rule csaw_weights:
    output:
        os.path.join(CSAW["dest"], "weights", "{net}_bd_weights.h5"),
    wildcard_constraints:
        net="sunglasses|anonymous_1|anonymous_2|multi_trigger_multi_target|lab3",
    params:
        commit=CSAW["commit"],
        local=csaw_local_arg(),
    log:
        log_path("csaw/weights_{net}"),
    benchmark:
        bench_path("csaw/weights_{net}")
    shell:
        f"{PYTHON} {SCRIPTS}/fetch_csaw.py" " weights {wildcards.net} --out {output}"
        " --commit {params.commit} {params.local} > {log} 2>&1"


rule csaw_images:
    output:
        [
            os.path.join(CSAW["dest"], rel)
            for rel in (
                "data/clean_validation_data.h5",
                "data/clean_test_data.h5",
                "data/sunglasses_poisoned_data.h5",
                "data/anonymous_1_poisoned_data.h5",
                "data/multi_trigger_multi_target/eyebrows_poisoned_data.h5",
                "data/multi_trigger_multi_target/lipstick_poisoned_data.h5",
                "data/multi_trigger_multi_target/sunglasses_poisoned_data.h5",
            )
        ],
    params:
        dest=lambda wildcards: CSAW["dest"],
        local=csaw_local_arg(),
    log:
        log_path("csaw/images"),
    benchmark:
        bench_path("csaw/images")
    shell:
        f"{PYTHON} {SCRIPTS}/fetch_csaw.py" " data challenge --dest {params.dest} {params.local} > {log} 2>&1"


rule csaw_lab3_images:
    output:
        [
            os.path.join(CSAW["dest"], "lab3", "data", rel)
            for rel in ("cl/valid.h5", "cl/test.h5", "bd/bd_valid.h5", "bd/bd_test.h5")
        ],
    params:
        dest=lambda wildcards: CSAW["dest"],
        local=csaw_local_arg(),
    log:
        log_path("csaw/lab3_images"),
    benchmark:
        bench_path("csaw/lab3_images")
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
        params:
            fraction=_split["validation_fraction"],
            seed=config["seed"],
        log:
            log_path("splits/split_{}".format(_index)),
        benchmark:
            bench_path("splits/split_{}".format(_index))
        shell:
            f"{PYTHON} {SCRIPTS}/split_dataset.py" " '{input}' --validation '{output.validation}'"
            " --test '{output.test}' --validation-fraction {params.fraction} --seed {params.seed}"
            " > {log} 2>&1"
