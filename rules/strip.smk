# STRIP input filtering: entropies once per badnet (the costly job), thresholds per drop% (cheap).


STRIP = config["strip"]


rule strip_entropy:
    input:
        unpack(badnet_inputs),
    output:
        "results/{badnet}/strip/entropies.npz",
    log:
        log_path("{badnet}/strip_entropy"),
    benchmark:
        bench_path("{badnet}/strip_entropy")
    threads: 2
    resources:
        gpu=1,
    params:
        badnet=badnet_args,
        batch_size=config["batch_size"],
        seed=config["seed"],
        strip=STRIP,
    shell:
        f"{PYTHON} {SCRIPTS}/strip_entropy.py"
        " {params.badnet}"
        " --batch-size {params.batch_size} --threads {threads} --seed {params.seed}"
        " --n-blends {params.strip[n_blends]} --blend {params.strip[blend]}"
        " --weight {params.strip[weight]} --blend-batch-size {params.strip[batch_size]}"
        " --out {output} > {log} 2>&1"


rule strip_plots:
    input:
        "results/{badnet}/strip/entropies.npz",
    output:
        hist=report(
            "results/{badnet}/strip/plots/entropy_histograms.png",
            category="STRIP",
            subcategory="{badnet}",
            caption="../report/strip_histograms.rst",
        ),
        rates=report(
            "results/{badnet}/strip/plots/far_frr.png",
            category="STRIP",
            subcategory="{badnet}",
            caption="../report/strip_rates.rst",
        ),
    log:
        log_path("{badnet}/strip_plots"),
    benchmark:
        bench_path("{badnet}/strip_plots")
    threads: 1
    params:
        drops=" ".join(drop_label(d) for d in config["drops"]),
        method=STRIP["threshold"],
    shell:
        f"{PYTHON} {SCRIPTS}/plot_strip.py"
        " --entropies {input} --drops {params.drops}"
        " --method {params.method} --out-hist {output.hist} --out-rates {output.rates} > {log} 2>&1"


rule strip_threshold:
    input:
        entropies="results/{badnet}/strip/entropies.npz",
    output:
        json="results/{badnet}/strip/{drop}/result.json",
        rows="results/{badnet}/rows/strip_{drop}.json",
        spec="results/{badnet}/strip/{drop}/goodnet.json",
    log:
        log_path("{badnet}/strip_{drop}"),
    benchmark:
        bench_path("{badnet}/strip_{drop}")
    threads: 1
    params:
        method=STRIP["threshold"],
    shell:
        f"{PYTHON} {SCRIPTS}/strip_threshold.py"
        " --entropies {input.entropies} --drop {wildcards.drop}"
        " --method {params.method} --out-json {output.json} --out-rows {output.rows}"
        " --out-spec {output.spec} > {log} 2>&1"
