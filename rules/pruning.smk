# Pruning and fine-pruning of conv_3 (Liu et al., "Fine-Pruning", RAID 2018).
# One pruning job per badnet computes the curve once (pool_3 activations once, only the head per
# step) and writes the pruned net of every drop%; one fine-pruning job per badnet x drop%.


PRUNING = config["pruning"]


include: "pruning_inputs.smk"


rule pruning:
    input:
        unpack(badnet_inputs),
    output:
        weights=pruning_drop_files("results/{badnet}/pruning/{drop}/repaired_weights.h5"),
        goodnet=pruning_drop_files("results/{badnet}/pruning/{drop}/goodnet.json"),
        records=pruning_drop_files("results/{badnet}/pruning/{drop}/pruning.json"),
        rows=pruning_drop_files("results/{badnet}/rows/pruning_{drop}.json"),
        curve="results/{badnet}/pruning/curve.csv",
        curve_json="results/{badnet}/pruning/curve.json",
        maps="results/{badnet}/pruning/activation_maps.npz",
        summary="results/{badnet}/pruning/pruning.json",
    log:
        log_path("{badnet}/pruning"),
    benchmark:
        bench_path("{badnet}/pruning")
    threads: 2
    resources:
        gpu=1,
    params:
        badnet=badnet_args,
        drops=" ".join(drop_label(d) for d in config["drops"]),
        batch_size=config["batch_size"],
        head_batch_size=PRUNING["head_batch_size"],
        seed=config["seed"],
    shell:
        f"{PYTHON} {SCRIPTS}/prune_badnet.py"
        " {params.badnet} --drops {params.drops}"
        " --batch-size {params.batch_size} --head-batch-size {params.head_batch_size}"
        " --threads {threads} --seed {params.seed}"
        " --out-weights {output.weights} --out-goodnet {output.goodnet}"
        " --out-records {output.records} --out-rows {output.rows}"
        " --out-curve {output.curve} --out-curve-json {output.curve_json} --out-maps {output.maps}"
        " --out-summary {output.summary} > {log} 2>&1"


rule pruning_plots:
    input:
        curve="results/{badnet}/pruning/curve.csv",
        maps="results/{badnet}/pruning/activation_maps.npz",
        summary="results/{badnet}/pruning/pruning.json",
    output:
        curve=report(
            "results/{badnet}/pruning/plots/pruning_curve.png",
            category="Pruning",
            subcategory="{badnet}",
            caption="../report/pruning_curve.rst",
        ),
        maps=report(
            "results/{badnet}/pruning/plots/activation_maps.png",
            category="Pruning",
            subcategory="{badnet}",
            caption="../report/activation_maps.rst",
        ),
    log:
        log_path("{badnet}/pruning_plots"),
    benchmark:
        bench_path("{badnet}/pruning_plots")
    threads: 1
    params:
        badnet="{badnet}",
    shell:
        f"{PYTHON} {SCRIPTS}/plot_pruning.py"
        " --badnet {params.badnet} --curve {input.curve}"
        " --maps {input.maps} --summary {input.summary}"
        " --out-curve {output.curve} --out-maps {output.maps} > {log} 2>&1"


rule fine_pruning:
    input:
        unpack(badnet_inputs),
        pruned="results/{badnet}/pruning/{drop}/repaired_weights.h5",
    output:
        weights="results/{badnet}/fine_pruning/{drop}/repaired_weights.h5",
        goodnet="results/{badnet}/fine_pruning/{drop}/goodnet.json",
        json="results/{badnet}/fine_pruning/{drop}/fine_pruning.json",
        rows="results/{badnet}/rows/fine_pruning_{drop}.json",
    log:
        log_path("{badnet}/fine_pruning_{drop}"),
    benchmark:
        bench_path("{badnet}/fine_pruning_{drop}")
    threads: 2
    resources:
        gpu=1,
    params:
        badnet=badnet_args,
        batch_size=config["batch_size"],
        seed=config["seed"],
        fine=PRUNING,
        repair=config["repair"],
    shell:
        f"{PYTHON} {SCRIPTS}/fine_prune.py"
        " {params.badnet} --pruned-weights {input.pruned}"
        " --drop {wildcards.drop} --epochs {params.fine[fine_tune_epochs]}"
        " --learning-rate {params.fine[fine_tune_learning_rate]}"
        " --fine-tune-batch-size {params.fine[fine_tune_batch_size]}"
        " --check-fraction {params.repair[check_fraction]} --patience {params.repair[patience]}"
        " --batch-size {params.batch_size} --threads {threads} --seed {params.seed}"
        " --out-weights {output.weights} --out-goodnet {output.goodnet} --out-json {output.json}"
        " --out-rows {output.rows} > {log} 2>&1"
