# Baseline: each badnet without defense, clean accuracy and ASR per poisoned set.


rule baseline:
    input:
        unpack(badnet_inputs),
    output:
        json="results/{badnet}/baseline.json",
        rows="results/{badnet}/rows/none.json",
    log:
        log_path("{badnet}/baseline"),
    benchmark:
        bench_path("{badnet}/baseline")
    threads: 2
    params:
        badnet=badnet_args,
        batch_size=config["batch_size"],
    shell:
        f"{PYTHON} {SCRIPTS}/evaluate_baseline.py"
        " {params.badnet}"
        " --batch-size {params.batch_size} --threads {threads}"
        " --out-json {output.json} --out-rows {output.rows} > {log} 2>&1"
