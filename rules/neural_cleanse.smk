# Neural Cleanse: trigger reverse-engineering of every label in label-range shards, MAD anomaly
# index over the gathered norms, and the input-filter mitigation per drop%.
NC = config["neural_cleanse"]
NC_OVERRIDES = {
    key: NC[key]
    for key in ("images_per_label", "mini_batch", "epochs", "learning_rate", "init_cost", "patience")
    if NC.get(key) is not None
}


rule nc_scan:
    input:
        unpack(badnet_inputs),
    output:
        "results/{badnet}/neural_cleanse/shards/{first}-{last}.npz",
    wildcard_constraints:
        first=r"\d+",
        last=r"\d+",
    params:
        badnet=badnet_args,
        settings=json.dumps(NC_OVERRIDES),
        progress="results/{badnet}/neural_cleanse/progress/{first}-{last}",
        schedule=NC["schedule"],
        memory_mb=NC["memory_mb"],
        seed=NC["seed"],
    threads: NC["threads"]
    resources:
        gpu=1,
    log:
        log_path("{badnet}/neural_cleanse/scan_{first}-{last}"),
    benchmark:
        bench_path("{badnet}/neural_cleanse/scan_{first}-{last}")
    shell:
        f"{PYTHON} {SCRIPTS}/nc_scan_shard.py" " {params.badnet} --first {wildcards.first}"
        " --last {wildcards.last} --schedule {params.schedule} --settings '{params.settings}'"
        " --memory-mb {params.memory_mb} --seed {params.seed} --threads {threads}"
        " --progress-dir {params.progress} --out {output} > {log} 2>&1"


rule nc_gather:
    input:
        lambda wc: expand(
            "results/{badnet}/neural_cleanse/shards/{shard}.npz",
            badnet=wc.badnet,
            shard=nc_shards(wc.badnet),
        ),
    output:
        norms="results/{badnet}/neural_cleanse/norms.csv",
        triggers="results/{badnet}/neural_cleanse/triggers.npz",
        summary="results/{badnet}/neural_cleanse/nc.json",
        gallery=report("results/{badnet}/neural_cleanse/gallery.png", category="Neural Cleanse",
                       subcategory="{badnet}", caption="../report/nc_gallery.rst"),
    params:
        poisoned=lambda wc: " ".join(
            "--poisoned '{}:{}:{}'".format(p["trigger"], p["target"], p["file"])
            for p in BADNETS[wc.badnet]["poisoned"]
        ),
        n_labels=lambda wc: nc_scanned_labels(wc.badnet),
        threshold=NC["threshold"],
    log:
        log_path("{badnet}/neural_cleanse/gather"),
    benchmark:
        bench_path("{badnet}/neural_cleanse/gather")
    shell:
        f"{PYTHON} {SCRIPTS}/nc_gather.py" " {input} --badnet {wildcards.badnet}"
        " --n-classes {params.n_labels} {params.poisoned} --threshold {params.threshold}"
        " --out-csv {output.norms} --out-npz {output.triggers} --out-json {output.summary}"
        " --out-png {output.gallery} > {log} 2>&1"


rule nc_mitigate:
    input:
        unpack(badnet_inputs),
        summary="results/{badnet}/neural_cleanse/nc.json",
        triggers="results/{badnet}/neural_cleanse/triggers.npz",
    output:
        spec="results/{badnet}/neural_cleanse/{drop}/goodnet.json",
        rows="results/{badnet}/rows/neural_cleanse_{drop}.json",
    params:
        badnet=badnet_args,
        batch_size=config["batch_size"],
        filter_neurons=NC["filter_neurons"],
        seed=NC["seed"],
    threads: 2
    resources:
        gpu=1,
    log:
        log_path("{badnet}/neural_cleanse/mitigate_{drop}"),
    benchmark:
        bench_path("{badnet}/neural_cleanse/mitigate_{drop}")
    shell:
        f"{PYTHON} {SCRIPTS}/nc_mitigate.py" " {params.badnet} --drop {wildcards.drop}"
        " --summary {input.summary} --triggers {input.triggers}"
        " --filter-neurons {params.filter_neurons} --batch-size {params.batch_size}"
        " --threads {threads} --seed {params.seed} --out-spec {output.spec}"
        " --out-rows {output.rows} > {log} 2>&1"


rule nc_mad_table:
    input:
        expand("results/{badnet}/neural_cleanse/nc.json", badnet=list(BADNETS)),
    output:
        report("results/mad.csv", caption="../report/mad.rst", category="Results"),
    log:
        log_path("neural_cleanse_mad"),
    benchmark:
        bench_path("neural_cleanse_mad")
    shell:
        f"{PYTHON} {SCRIPTS}/nc_mad_table.py" " {input} --out {output} > {log} 2>&1"


register_rows("neural_cleanse", "results/{badnet}/rows/neural_cleanse_{drop}.json")
