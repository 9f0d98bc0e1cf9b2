# One results table over badnet x defense x drop%, from the per-job row files; one per badnet.


rule summary:
    input:
        lambda wc: row_files(),
    output:
        csv="results/summary.csv",
        md=report("results/summary.md", caption="../report/summary.rst", category="Results"),
    log:
        log_path("summary"),
    benchmark:
        bench_path("summary")
    shell:
        f"{PYTHON} {SCRIPTS}/summarize.py" " {input} --out-csv {output.csv} --out-md {output.md}"
        " > {log} 2>&1"


rule badnet_summary:
    input:
        lambda wc: row_files(wc.badnet),
    output:
        csv="results/{badnet}/summary.csv",
        md="results/{badnet}/summary.md",
    log:
        log_path("{badnet}/summary"),
    benchmark:
        bench_path("{badnet}/summary")
    shell:
        f"{PYTHON} {SCRIPTS}/summarize.py" " {input} --out-csv {output.csv} --out-md {output.md}"
        " > {log} 2>&1"


# One badnet's results by naming it: `snakemake --cores 2 BADNET` makes its table, its figures
# and its scans (results/BADNET/...), and nothing of the other badnets.
for _name in BADNETS:
    if _name in [r.name for r in workflow.rules]:
        raise ValueError("config: badnet name '{}' is also the name of a rule; rename the badnet".format(_name))

    rule:
        name:
            _name
        input:
            all_targets(_name),
        localrule: True
