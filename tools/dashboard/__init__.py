"""`crudops dashboard`: the stack's CloudWatch dashboard as a page a person can look at.

- `body.py` reads the dashboard body (widgets, metric arrays, thresholds) from the
  template, resolved with the running local stack's names;
- `series.py` reads each widget's lines from CloudWatch (and evaluates its metric math);
- `svg.py` draws one graph; `page.py` lays the widgets out as HTML;
- `serve.py` serves the page on 127.0.0.1, refreshing itself;
- `command.py` holds the `do_dashboard_…` functions the CLI calls.
See docs/adr/0015-dashboard-page.md.
"""
