# The embedded demo benchmark: procedural faces and DeepID badnets trained by the workflow.


rule demo_data:
    output:
        train="results/demo/data/clean_train.h5",
        valid="results/demo/data/clean_validation.h5",
        test="results/demo/data/clean_test.h5",
        poisoned=["results/demo/data/{}_to_{}_test.h5".format(t, y) for t, y in demo_poison_pairs()],
    log:
        log_path("demo/data"),
    benchmark:
        bench_path("demo/data")
    params:
        demo=config["demo"],
        poison=demo_poison_args([{"trigger": t, "target": y} for t, y in demo_poison_pairs()]),
    shell:
        f"{PYTHON} {SCRIPTS}/make_demo_data.py"
        " --out-dir results/demo/data"
        " --n-classes {params.demo[n_classes]} --seed {params.demo[seed]}"
        " --train-per-class {params.demo[train_per_class]}"
        " --valid-per-class {params.demo[valid_per_class]}"
        " --test-per-class {params.demo[test_per_class]} --style {params.demo[style]}"
        " {params.poison} > {log} 2>&1"


rule demo_badnet:
    input:
        train="results/demo/data/clean_train.h5",
        valid="results/demo/data/clean_validation.h5",
    output:
        weights="results/demo/models/{demo_model}_bd_weights.h5",
        report="results/demo/models/{demo_model}_training.json",
    log:
        log_path("demo/{demo_model}_training"),
    benchmark:
        bench_path("demo/{demo_model}_training")
    threads: 2
    resources:
        gpu=1,
    params:
        demo=config["demo"],
        poison=lambda wc: demo_poison_args(DEMO_MODELS[wc.demo_model]["poison"]),
        aware=lambda wc: DEMO_MODELS[wc.demo_model]["pruning_aware"],
    shell:
        f"{PYTHON} {SCRIPTS}/train_demo_badnet.py"
        " --train {input.train} --valid {input.valid}"
        " --n-classes {params.demo[n_classes]} {params.poison}"
        " --poison-fraction {params.demo[poison_fraction]} --epochs {params.demo[epochs]}"
        " --batch-size {params.demo[batch_size]} --learning-rate {params.demo[learning_rate]}"
        " --seed {params.demo[seed]} --threads {threads}"
        " --pruning-aware {params.aware} --pruning-aware-epochs {params.demo[pruning_aware_epochs]}"
        " --out {output.weights} --report {output.report} > {log} 2>&1"
