# Neural Cleanse: screening of every label in label-range shards, refinement of the candidates
# and a reference sample (careful schedule), the MAD verdict over the refined
# norms, and the input-filter mitigation per drop%.
NC = config["neural_cleanse"]
NC_OVERRIDES = {
    key: NC[key]
    for key in (
        "images_per_label",
        "mini_batch",
        "epochs",
        "learning_rate",
        "init_cost",
        "patience",
        "augment_flip",
        "augment_shift",
    )
    if NC.get(key) is not None
}
# the refinement keeps its own schedule; only its epochs and the views of the faces are set
NC_REFINE_OVERRIDES = {
    key: value
    for key, value in [
        ("epochs", NC["refine"]["epochs"]),
        ("augment_flip", NC.get("augment_flip")),
        ("augment_shift", NC.get("augment_shift")),
    ]
    if value is not None
}


include: "neural_cleanse_inputs.smk"


rule nc_scan:
    input:
        unpack(badnet_inputs),
    output:
        "results/{badnet}/neural_cleanse/shards/{first}-{last}.npz",
    log:
        log_path("{badnet}/neural_cleanse/scan_{first}-{last}"),
    benchmark:
        bench_path("{badnet}/neural_cleanse/scan_{first}-{last}")
    wildcard_constraints:
        first=r"\d+",
        last=r"\d+",
    threads: NC["threads"]
    resources:
        gpu=1,
    params:
        badnet=badnet_args,
        settings=json.dumps(NC_OVERRIDES),
        progress="results/{badnet}/neural_cleanse/progress/{first}-{last}",
        schedule=NC["schedule"],
        memory_mb=NC["memory_mb"],
        seed=NC["seed"],
    shell:
        f"{PYTHON} {SCRIPTS}/nc_scan_shard.py"
        " {params.badnet} --first {wildcards.first}"
        " --last {wildcards.last} --schedule {params.schedule} --settings {params.settings:q}"
        " --memory-mb {params.memory_mb} --seed {params.seed} --threads {threads}"
        " --progress-dir {params.progress} --out {output} > {log} 2>&1"


rule nc_select:
    input:
        nc_screen_shards,
    output:
        plan="results/{badnet}/neural_cleanse/refine/plan.json",
        starts="results/{badnet}/neural_cleanse/refine/starts.npz",
    log:
        log_path("{badnet}/neural_cleanse/select"),
    benchmark:
        bench_path("{badnet}/neural_cleanse/select")
    params:
        n_labels=lambda wc: nc_scanned_labels(wc.badnet),
        candidates=NC["refine"]["candidates"],
        reference=NC["refine"]["reference"],
        threshold=NC["threshold"],
        seed=NC["seed"],
    shell:
        f"{PYTHON} {SCRIPTS}/nc_select.py"
        " {input} --n-labels {params.n_labels}"
        " --candidates {params.candidates} --reference {params.reference}"
        " --threshold {params.threshold} --seed {params.seed}"
        " --out-plan {output.plan} --out-starts {output.starts} > {log} 2>&1"


rule nc_refine:
    input:
        unpack(badnet_inputs),
        plan="results/{badnet}/neural_cleanse/refine/plan.json",
        starts="results/{badnet}/neural_cleanse/refine/starts.npz",
    output:
        "results/{badnet}/neural_cleanse/refine/part_{part}.npz",
    log:
        log_path("{badnet}/neural_cleanse/refine_{part}"),
    benchmark:
        bench_path("{badnet}/neural_cleanse/refine_{part}")
    wildcard_constraints:
        part=r"\d+",
    threads: NC["threads"]
    resources:
        gpu=1,
    params:
        badnet=badnet_args,
        parts=NC["refine"]["jobs"],
        cold="" if NC["refine"]["warm_start"] else "--cold-start",
        restarts=NC["refine"]["restarts"],
        settings=json.dumps(NC_REFINE_OVERRIDES),
        progress="results/{badnet}/neural_cleanse/refine/progress/{part}",
        memory_mb=NC["memory_mb"],
        seed=NC["seed"],
    shell:
        f"{PYTHON} {SCRIPTS}/nc_refine_shard.py"
        " {params.badnet} --plan {input.plan}"
        " --starts {input.starts} --part {wildcards.part} --parts {params.parts}"
        " --settings {params.settings:q} --memory-mb {params.memory_mb} --seed {params.seed}"
        " --threads {threads} {params.cold} --restarts {params.restarts}"
        " --progress-dir {params.progress} --out {output}"
        " > {log} 2>&1"


rule nc_gather:
    input:
        shards=nc_screen_shards,
        refined=nc_refine_parts,
        plan=nc_refine_plan,
    output:
        norms="results/{badnet}/neural_cleanse/norms.csv",
        triggers="results/{badnet}/neural_cleanse/triggers.npz",
        summary="results/{badnet}/neural_cleanse/nc.json",
        gallery=report(
            "results/{badnet}/neural_cleanse/gallery.png",
            category="Neural Cleanse",
            subcategory="{badnet}",
            caption="../report/nc_gallery.rst",
        ),
    log:
        log_path("{badnet}/neural_cleanse/gather"),
    benchmark:
        bench_path("{badnet}/neural_cleanse/gather")
    params:
        poisoned=lambda wc: " ".join(
            "--poisoned {}".format(shlex.quote("{}:{}:{}".format(p["trigger"], p["target"], p["file"])))
            for p in BADNETS[wc.badnet]["poisoned"]
        ),
        trigger_rows=nc_trigger_rows_args,
        control=lambda wc: "" if BADNETS[wc.badnet].get("backdoored", True) else "--clean-control",
        n_labels=lambda wc: nc_scanned_labels(wc.badnet),
        n_classes=lambda wc: BADNETS[wc.badnet]["n_classes"],
        refined=lambda wc, input: (
            "--refined {} --plan {}".format(input.refined, input.plan) if input.refined else ""
        ),
        threshold=NC["threshold"],
        near=NC["near_threshold"],
        separation=NC["separation"],
    shell:
        f"{PYTHON} {SCRIPTS}/nc_gather.py"
        " {input.shards} {params.refined}"
        " --badnet {wildcards.badnet} --n-classes {params.n_labels}"
        " --model-classes {params.n_classes} {params.poisoned} {params.trigger_rows} {params.control}"
        " --threshold {params.threshold} --near {params.near} --separation {params.separation}"
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
    log:
        log_path("{badnet}/neural_cleanse/mitigate_{drop}"),
    benchmark:
        bench_path("{badnet}/neural_cleanse/mitigate_{drop}")
    threads: 2
    resources:
        gpu=1,
    params:
        badnet=badnet_args,
        batch_size=config["batch_size"],
        filter_neurons=NC["filter_neurons"],
        seed=NC["seed"],
    shell:
        f"{PYTHON} {SCRIPTS}/nc_mitigate.py"
        " {params.badnet} --drop {wildcards.drop}"
        " --summary {input.summary} --triggers {input.triggers}"
        " --filter-neurons {params.filter_neurons} --batch-size {params.batch_size}"
        " --threads {threads} --seed {params.seed} --out-spec {output.spec}"
        " --out-rows {output.rows} > {log} 2>&1"


rule nc_mad_table:
    input:
        expand("results/{badnet}/neural_cleanse/nc.json", badnet=list(BADNETS)),
    output:
        report(
            "results/mad.csv",
            caption="../report/mad.rst",
            category="Results",
            labels={"result": "3 Neural Cleanse MAD table"},
        ),
    log:
        log_path("neural_cleanse_mad"),
    benchmark:
        bench_path("neural_cleanse_mad")
    shell:
        f"{PYTHON} {SCRIPTS}/nc_mad_table.py" " {input} --out {output} > {log} 2>&1"
