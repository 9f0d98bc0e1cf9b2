# The results tables over badnet x defense x drop%, from the per-job row files (and Neural
# Cleanse's verdicts, when it ran): tidy CSV, wide CSV and compact Markdown; one set per badnet;
# and the overview figure.


rule summary:
    input:
        rows=lambda wc: row_files(),
        nc=lambda wc: nc_summaries(),
    output:
        csv="results/summary.csv",
        wide="results/summary_wide.csv",
        md=report(
            "results/summary.md",
            caption="../report/summary.rst",
            category="Results",
            labels={"result": "2 summary table"},
        ),
    log:
        log_path("summary"),
    benchmark:
        bench_path("summary")
    shell:
        f"{PYTHON} {SCRIPTS}/summarize.py"
        " {input.rows} --nc-json {input.nc} --out-csv {output.csv}"
        " --out-wide-csv {output.wide} --out-md {output.md} > {log} 2>&1"


rule badnet_summary:
    input:
        rows=lambda wc: row_files(wc.badnet),
        nc=lambda wc: nc_summaries(wc.badnet),
    output:
        csv="results/{badnet}/summary.csv",
        wide="results/{badnet}/summary_wide.csv",
        md="results/{badnet}/summary.md",
    log:
        log_path("{badnet}/summary"),
    benchmark:
        bench_path("{badnet}/summary")
    shell:
        f"{PYTHON} {SCRIPTS}/summarize.py"
        " {input.rows} --nc-json {input.nc} --out-csv {output.csv}"
        " --out-wide-csv {output.wide} --out-md {output.md} > {log} 2>&1"


rule overview:
    input:
        summary="results/summary.csv",
        nc=lambda wc: nc_summaries(),
        norms=lambda wc: nc_norms(),
    output:
        report(
            "results/overview.png",
            caption="../report/overview.rst",
            category="Results",
            labels={"result": "1 overview figure"},
        ),
    log:
        log_path("overview"),
    benchmark:
        bench_path("overview")
    shell:
        f"{PYTHON} {SCRIPTS}/plot_overview.py"
        " --summary {input.summary} --nc-json {input.nc}"
        " --nc-norms {input.norms} --out {output} > {log} 2>&1"


# One badnet's results by naming it: `snakemake --cores 2 BADNET` makes its table, its figures
# and its scans (results/BADNET/...), and nothing of the other badnets.
for _name in BADNETS:
    if _name in [r.name for r in workflow.rules]:
        raise ValueError(
            "config: badnet name '{}' is also the name of a rule; rename the badnet".format(_name)
        )

    rule:
        name:
            _name
        input:
            all_targets(_name),
        localrule: True
