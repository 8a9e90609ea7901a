"""`crudops load`: Locust's crudops scenario (loadtests/) against a stack, gated on SLOs.

options.py (the run's options and Locust's command line) · target.py (where the load
goes, and its queue metrics) · run.py (`do_load_command`, `do_load`) · summary.py (the
scenario's final statistics, what an SLO measures) · slo.py (SLO gates) · queues.py,
plots.py, report_page.py (`--out`) · output.py (tables or JSON).
"""
