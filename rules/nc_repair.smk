# Neural Cleanse unlearning (Wang et al. 2019): the badnet fine-tuned on clean tuning images, a
# fraction of them carrying a flagged label's reversed trigger at their true label, within the
# drop% budget on the held-out check part (settings: `repair` and `neural_cleanse.unlearning`).
# It reads the scan's outputs (nc.json, triggers.npz): no second scan. One job per badnet x drop%.
REPAIR = config["repair"]
NC_UNLEARN = config["neural_cleanse"]["unlearning"]


rule nc_unlearning:
    input:
        unpack(badnet_inputs),
        summary="results/{badnet}/neural_cleanse/nc.json",
        triggers="results/{badnet}/neural_cleanse/triggers.npz",
    output:
        weights="results/{badnet}/nc_unlearning/{drop}/repaired_weights.h5",
        goodnet="results/{badnet}/nc_unlearning/{drop}/goodnet.json",
        json="results/{badnet}/nc_unlearning/{drop}/nc_unlearning.json",
        rows="results/{badnet}/rows/nc_unlearning_{drop}.json",
    log:
        log_path("{badnet}/nc_unlearning_{drop}"),
    benchmark:
        bench_path("{badnet}/nc_unlearning_{drop}")
    threads: 2
    resources:
        gpu=1,
    params:
        badnet=badnet_args,
        batch_size=config["batch_size"],
        seed=config["seed"],
        unlearn=NC_UNLEARN,
        learning_rate=optional_arg("--learning-rate", NC_UNLEARN["learning_rate"]),
        repair=REPAIR,
    shell:
        f"{PYTHON} {SCRIPTS}/nc_unlearn.py"
        " {params.badnet} --drop {wildcards.drop}"
        " --summary {input.summary} --triggers {input.triggers}"
        " --teacher {params.unlearn[teacher]}"
        " --stamp-fraction {params.unlearn[stamp_fraction]} --epochs {params.unlearn[epochs]}"
        " {params.learning_rate}"
        " --fine-tune-batch-size {params.unlearn[batch_size]}"
        " --check-fraction {params.repair[check_fraction]} --patience {params.repair[patience]}"
        " --batch-size {params.batch_size} --threads {threads} --seed {params.seed}"
        " --out-weights {output.weights} --out-goodnet {output.goodnet} --out-json {output.json}"
        " --out-rows {output.rows} > {log} 2>&1"


# Neural Cleanse neuron pruning (Wang et al. 2019, section VI-B): the neurons before the output
# that the flagged labels' reversed triggers excite most get their outgoing weights zeroed, in
# order, within the drop% budget on the clean validation images (nothing is trained: no split;
# settings: `neural_cleanse.pruning`). Reads the scan's outputs: no second scan. One job per
# badnet x drop%.
NC_PRUNE = config["neural_cleanse"]["pruning"]


rule nc_pruning:
    input:
        unpack(badnet_inputs),
        summary="results/{badnet}/neural_cleanse/nc.json",
        triggers="results/{badnet}/neural_cleanse/triggers.npz",
    output:
        weights="results/{badnet}/nc_pruning/{drop}/repaired_weights.h5",
        goodnet="results/{badnet}/nc_pruning/{drop}/goodnet.json",
        json="results/{badnet}/nc_pruning/{drop}/nc_pruning.json",
        rows="results/{badnet}/rows/nc_pruning_{drop}.json",
    log:
        log_path("{badnet}/nc_pruning_{drop}"),
    benchmark:
        bench_path("{badnet}/nc_pruning_{drop}")
    threads: 2
    resources:
        gpu=1,
    params:
        badnet=badnet_args,
        batch_size=config["batch_size"],
        seed=config["seed"],
        prune=NC_PRUNE,
    shell:
        f"{PYTHON} {SCRIPTS}/nc_prune.py"
        " {params.badnet} --drop {wildcards.drop}"
        " --summary {input.summary} --triggers {input.triggers} --step {params.prune[step]}"
        " --batch-size {params.batch_size} --threads {threads} --seed {params.seed}"
        " --out-weights {output.weights} --out-goodnet {output.goodnet} --out-json {output.json}"
        " --out-rows {output.rows} > {log} 2>&1"
