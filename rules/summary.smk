# One results table over badnet x defense x drop%, from the per-job row files.


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
