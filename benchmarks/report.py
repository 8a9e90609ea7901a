"""Presenting a `crudops bench` report: a rich table for the terminal and
benchmarks/RESULTS.md, both built from the report's JSON so they cannot disagree with
`--json`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS_FILE = Path(__file__).with_name("RESULTS.md")


def mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 1024**2:,.0f} MiB"


def number(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{unit}"


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def rows(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, value, target) rows, in the order of the brief: (a) … (e)."""
    budget = document["budget"]
    targets = document["targets"]
    rounds = budget.get("rounds_requests_per_second") or []
    spread = (f" (median of {len(rounds)} rounds: "
              f"{', '.join(number(r) for r in rounds)})") if len(rounds) > 1 else ""
    result: list[tuple[str, str, str]] = [
        ("(a) emulator budget (serial)",
         number(budget.get("requests_per_second"), " req/s") + spread, ""),
    ]
    largest = max((run["backlog"] for run in document["runs"]), default=0)
    for run in document["runs"]:
        saturation, latency = run["saturation"], run["latency"]
        notify = latency.get("notify_latency", {})
        prefix = "" if run["backlog"] == 0 else f"(e) backlog {run['backlog']:,}: "
        if run["backlog"]:
            drained = ("not drained" if run["drained_after_s"] is None
                       else f"drained {run['drained_after_s']:,.1f} s after preload")
            last = run["backlog"] == largest
            preload = targets.get("preload_seconds_per_100k", {})
            backlog_share = targets.get("backlog_throughput_ratio", {})
            result.append((f"{prefix}preload",
                           f"{number(run['preload_s'], ' s')}; depth at load start "
                           f"{run['depth_at_load_start']:,}; {drained}; end depth "
                           f"{run['depth_at_end']}; net drain "
                           f"{number(run['drain_rate_per_s'], '/s')}",
                           (f"preload ≤ 60 s per 100,000: {verdict(preload['met'])}; "
                            f"drain / notified at 0 = {number(backlog_share['value'], '', 3)} "
                            f"(≥ 0.8: {verdict(backlog_share['met'])})")
                           if last and preload else ""))
        share = targets["throughput_ratio"]
        result.append((
            f"{prefix}(b) saturated throughput",
            f"{number(saturation.get('notifications_per_s'), ' notif/s')} "
            f"({number(saturation.get('accepted_per_s'), ' accepted/s')}; "
            f"errors {saturation.get('http_error_count', 0)}, late "
            f"{saturation.get('late', 0)}, unanswered after grace {saturation.get('lost', 0)})",
            (f"b/a = {number(share['value'], '', 3)} (≥ 0.5: {verdict(share['met'])})"
             if run["backlog"] == 0 else ""),
        ))
        p99 = targets["p99_half_load_ms"]
        result.append((
            f"{prefix}(c) 202→notify at {run['latency_rate_per_s']:.1f}/s",
            f"p50 {number(notify.get('p50_ms'), ' ms', 0)} · p95 "
            f"{number(notify.get('p95_ms'), ' ms', 0)} · p99 "
            f"{number(notify.get('p99_ms'), ' ms', 0)} (n={notify.get('count', 0)}; late "
            f"{latency.get('late', 0)}, unanswered {latency.get('lost', 0)}, errors "
            f"{latency.get('http_error_count', 0)})",
            f"p99 ≤ 1 s: {verdict(p99['met'])}" if run["backlog"] == 0 else "",
        ))
        idle = targets["idle_memory_bytes"]
        peak = targets.get("peak_memory_bytes")
        memory_target = (f"idle ≤ 1 GiB: {verdict(idle['met'])}" if run["backlog"] == 0
                         else f"peak < 2 GiB (every run): {verdict(peak['met'])}"
                         if peak and run["backlog"] == largest else "")
        result.append((
            f"{prefix}(d) memory, {run['processes']} processes",
            f"idle (at rest) {mib(run['idle_memory_bytes'])} · "
            f"peak {mib(run['peak_memory_bytes'])}",
            memory_target,
        ))
    return result


def breakdowns(document: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Where the time and memory go on the unloaded stack: (title, [(name, value)])."""
    base = next((run for run in document["runs"] if run["backlog"] == 0), None)
    if base is None:
        return []
    window = base["saturation"].get("duration_s", 0)
    notified = base["saturation"].get("notified_in_window", 0) or 0
    sections = [(f"CPU seconds per process during (b) ({window:g} s window, "
                 f"{document['machine']['nproc']} cores)",
                 [(name, f"{seconds:.1f} s") for name, seconds in
                  base["cpu_seconds_saturation"].items() if seconds >= 0.05]),
                ("Idle memory (RSS) per process",
                 [(name, mib(value)) for name, value in
                  base.get("idle_memory_by_process", {}).items()])]
    recorded = base.get("aws_calls_saturation") or {}
    if recorded:
        accepted = base["saturation"].get("accepted", 0) or 1
        sections.append((
            f"AWS calls during (b), recorded ({sum(recorded.values()):,} calls for "
            f"{accepted:,} accepted / {notified:,} notified requests)",
            [(name, f"{count:,} ({count / accepted:.2f} per accepted request)")
             for name, count in recorded.items()]))
    return sections


def print_report(document: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="crudops bench", show_lines=False)
    table.add_column("figure")
    table.add_column("value")
    table.add_column("target")
    for figure, value, target in rows(document):
        table.add_row(figure, value, target)
    console.print(table)
    for title, entries in breakdowns(document):
        breakdown = Table(title=title)
        breakdown.add_column("what")
        breakdown.add_column("value", justify="right")
        for name, value in entries:
            breakdown.add_row(name, value)
        console.print(breakdown)
    noise = document.get("child_stderr") or {}
    if noise.get("tracebacks"):
        console.print(f"The embedded AWS server printed {noise['tracebacks']} tracebacks "
                      f"({noise.get('dictionary_changed_size', 0)} of them the known "
                      "concurrent-transaction race; botocore retries those).")
    console.print(machine_line(document["machine"]))


def machine_line(machine: dict[str, Any]) -> str:
    load = ", ".join(f"{v:.2f}" for v in machine.get("load_average_at_start", []))
    return (f"{machine['nproc']} CPUs ({machine['cpu_model']}), "
            f"{machine['memory_total_bytes'] / 1024**3:.1f} GiB, Python {machine['python']}, "
            f"moto {machine['moto']}, {machine['date']}, load average at start {load}")


def markdown(document: dict[str, Any], notes: str = "") -> str:
    """benchmarks/RESULTS.md: the figures, the machine and the command that made them."""
    lines = [
        "# Local stack benchmark results",
        "",
        "Written by `crudops bench --write-results`; do not edit the figures by hand (rerun",
        "the command). One run on one machine: a measurement, not a guarantee.",
        "",
        f"Command: `{document['command']}`",
        "",
        f"Machine: {machine_line(document['machine'])}.",
        "",
        "The stack runs in the bench process (gateway, pollers) and the load client shares",
        "that process and its interpreter lock; the embedded AWS server and every function",
        "worker are child processes. Memory is VmRSS summed over the whole process tree",
        "(shared pages counted once per process: an upper bound).",
        "",
        "| figure | value | target |",
        "|---|---|---|",
    ]
    for figure, value, target in rows(document):
        lines.append(f"| {figure} | {value} | {target} |")
    for title, entries in breakdowns(document):
        lines += ["", f"{title}:", "", "| what | value |", "|---|---|"]
        lines += [f"| {name} | {value} |" for name, value in entries]
    noise = document.get("child_stderr") or {}
    if noise.get("tracebacks"):
        lines += ["", f"The embedded AWS server printed {noise['tracebacks']} tracebacks "
                      f"({noise.get('dictionary_changed_size', 0)} of them the known "
                      "concurrent-transaction race, retried by botocore)."]
    lines += ["", "Options: `" + ", ".join(f"{k}={v}" for k, v in document["options"].items())
              + "`", ""]
    if notes:
        lines += [notes.strip(), ""]
    return "\n".join(lines)


NOTES_HEADING = "## Notes"


def kept_notes(existing: str) -> str:
    """The hand-written `## Notes` section of an existing RESULTS.md (diagnosis and
    interpretation), which a rerun keeps while it replaces the figures."""
    index = existing.find(f"\n{NOTES_HEADING}\n")
    return existing[index + 1:] if index >= 0 else ""


def write_results(document: dict[str, Any], path: Path = RESULTS_FILE) -> Path:
    notes = kept_notes(path.read_text()) if path.exists() else ""
    path.write_text(markdown(document, notes))
    return path
