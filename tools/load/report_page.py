"""`report.html` of `crudops load --out`: one page with the verdict, the SLOs, the
per-operation table and every plot, linking Locust's own report and CSV files.

Self-contained but for the PNGs beside it: no script, no stylesheet or font from
elsewhere, so it opens from the directory (or an artifact store) as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Final

from tools.load.slo import SloResult
from tools.load.summary import LoadSummary

REPORT_HTML: Final = "report.html"
_STYLE: Final = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1000px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.met { color: #176f2c; font-weight: bold; } .missed { color: #b00020; font-weight: bold; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.4em 0 1em; }
.note { color: #666; }
"""


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def measured_text(result: SloResult) -> str:
    value = result.measured
    if value is None:
        return "nothing measured"
    unit = result.as_json()["unit"]
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "%":
        return f"{value * 100:.3g} %"
    if unit == "/s":
        return f"{value:,.1f}/s"
    return f"{value:g}"


def _causes_table(rows: str) -> str:
    if not rows:
        return ""
    return ('<h2>Failures by cause</h2><table id="causes"><tr><th>cause</th>'
            f"<th>count</th></tr>{rows}</table>")


def write_report_page(out: Path, *, summary: LoadSummary, results: Sequence[SloResult],
                      title: str, plots: Sequence[Path], links: Sequence[Path],
                      notes: Sequence[str]) -> Path:
    met = all(r.met for r in results)
    slo_rows = "".join(
        f"<tr><td>{escape(r.slo.text)}</td><td>{escape(measured_text(r))}</td>"
        f"<td class=\"{'met' if r.met else 'missed'}\">{'met' if r.met else 'missed'}</td></tr>"
        for r in results)
    operation_rows = "".join(
        f"<tr><td>{escape(row.name)}</td><td>{row.count:,}</td><td>{row.failures:,}</td>"
        f"<td>{_ms(row.p50_ms)}</td><td>{_ms(row.p95_ms)}</td><td>{_ms(row.p99_ms)}</td>"
        f"<td>{_ms(row.max_ms)}</td></tr>" for row in summary.notifications)
    causes = "".join(f"<tr><td>{escape(cause)}</td><td>{n:,}</td></tr>"
                     for cause, n in summary.failures_by_cause().most_common())
    images = "".join(f'<img src="{escape(p.name)}" alt="{escape(p.stem)}">' for p in plots)
    files = " · ".join(f'<a href="{escape(p.name)}">{escape(p.name)}</a>' for p in links)
    note_items = "".join(f"<li>{escape(n)}</li>" for n in notes)
    verdict = ("every SLO met" if met else "an SLO missed")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>crudops load: {escape(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>crudops load: {escape(title)}</h1>
<p id="verdict" class="{'met' if met else 'missed'}">{verdict}</p>
<p>{summary.commands:,} commands · {summary.lost:,} lost · {summary.failed:,} failed ·
{summary.conflicts:,} expected conflicts · {summary.seconds:,.0f} s ·
{summary.workers or 1} load process(es)</p>
<h2>SLOs</h2>
<table id="slos"><tr><th>SLO</th><th>measured</th><th>verdict</th></tr>{slo_rows}</table>
<h2>202 → notification per operation</h2>
<table id="operations"><tr><th>operation</th><th>count</th><th>failed</th><th>p50 ms</th>
<th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>{operation_rows}</table>
{_causes_table(causes)}
<h2>Over the run</h2>
{images}
{f'<ul class="note">{note_items}</ul>' if note_items else ''}
<p>Files: {files}</p>
</body></html>
"""
    path = out / REPORT_HTML
    path.write_text(page)
    return path
