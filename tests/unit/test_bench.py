"""`crudops bench` arithmetic, pacing, /proc reading and reporting, without a stack."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest

from benchmarks import backlog, calls, processes
from benchmarks.bench import BenchOptions, BenchReport, RunResult, parse_backlogs
from benchmarks.emulator_budget import BudgetResult
from benchmarks.load import Inbox, PhaseResult
from benchmarks.report import kept_notes, markdown, rows, write_results
from benchmarks.stats import LatencySummary, arrival_offsets, percentile, rate, ratio


# --- percentiles -------------------------------------------------------------------
def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0.0) == 10.0
    assert percentile(values, 1.0) == 40.0
    assert percentile(values, 0.5) == 25.0  # mean of the two middle values
    assert percentile(values, 0.25) == pytest.approx(17.5)


def test_percentile_ignores_input_order_and_handles_one_value() -> None:
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([7.0], 0.99) == 7.0


def test_percentile_of_nothing_is_none_and_bad_fraction_is_an_error() -> None:
    assert percentile([], 0.5) is None
    with pytest.raises(ValueError):
        percentile([1.0], 99)


def test_p99_of_one_hundred_values_sits_near_the_top() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.99) == pytest.approx(99.01)
    assert percentile(values, 0.95) == pytest.approx(95.05)


def test_latency_summary_and_its_json() -> None:
    summary = LatencySummary.of([100.0, 200.0, 300.0])
    assert (summary.count, summary.p50, summary.maximum, summary.mean) == (3, 200.0, 300.0,
                                                                           200.0)
    assert LatencySummary.of([]).as_json() == {"count": 0, "p50_ms": None, "p95_ms": None,
                                               "p99_ms": None, "max_ms": None,
                                               "mean_ms": None}


def test_rate_and_ratio_do_not_divide_by_zero() -> None:
    assert rate(10, 2.0) == 5.0
    assert rate(10, 0.0) == 0.0
    assert ratio(25.0, 50.0) == 0.5
    assert ratio(25.0, 0.0) is None
    assert ratio(None, 50.0) is None


# --- pacing --------------------------------------------------------------------------
def test_fixed_pacing_is_evenly_spaced_within_the_duration() -> None:
    offsets = arrival_offsets(4.0, 2.0, "fixed")
    assert offsets == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75])


def test_poisson_pacing_has_the_requested_mean_rate_and_is_reproducible() -> None:
    offsets = arrival_offsets(20.0, 500.0, "poisson", seed=7)
    assert len(offsets) == pytest.approx(10_000, rel=0.05)
    assert offsets == sorted(offsets)
    assert all(0 < at < 500.0 for at in offsets)
    assert offsets == arrival_offsets(20.0, 500.0, "poisson", seed=7)
    assert offsets != arrival_offsets(20.0, 500.0, "poisson", seed=8)


def test_poisson_gaps_are_exponential() -> None:
    offsets = arrival_offsets(10.0, 1000.0, "poisson", seed=3)
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    mean = sum(gaps) / len(gaps)
    assert mean == pytest.approx(0.1, rel=0.05)
    # For an exponential distribution the standard deviation equals the mean.
    deviation = (sum((g - mean) ** 2 for g in gaps) / len(gaps)) ** 0.5
    assert deviation == pytest.approx(mean, rel=0.1)


def test_pacing_is_bounded_and_empty_for_no_rate() -> None:
    assert arrival_offsets(0.0, 10.0) == []
    assert arrival_offsets(5.0, 0.0) == []
    assert len(arrival_offsets(1e9, 10.0, "poisson", limit=100)) == 100
    assert len(arrival_offsets(1e9, 10.0, "fixed", limit=100)) == 100
    with pytest.raises(ValueError):
        arrival_offsets(1.0, 1.0, "bursty")  # type: ignore[arg-type]


# --- the phase figures ------------------------------------------------------------------
def test_phase_counts_late_and_unanswered_requests_apart() -> None:
    phase = PhaseResult("saturation", duration_seconds=10.0, started_at=100.0)
    phase.accepted = {"a": 101.0, "b": 102.0, "c": 109.5, "d": 111.0}
    phase.accept_ms = [5.0, 5.0, 5.0, 5.0]
    phase.inbox_arrived = {"a": 101.5, "b": 103.0, "c": 112.0}  # d never answered
    figures = phase.as_json()
    assert figures["accepted"] == 4
    assert figures["accepted_per_s"] == 0.3  # d was accepted after the window
    assert figures["notified_in_window"] == 2
    assert figures["notifications_per_s"] == 0.2
    assert figures["late"] == 1
    assert figures["lost"] == 1
    assert figures["notify_latency"]["count"] == 3
    assert figures["notify_latency"]["p50_ms"] == 1000.0


def test_inbox_keeps_the_first_notification_and_wakes_its_waiter() -> None:
    async def scenario() -> tuple[float, Inbox]:
        inbox = Inbox()
        future = inbox.expect("r1")
        inbox.deliver(json.dumps({"type": "subscribed", "requestId": "r1"}), 1.0)
        inbox.deliver(json.dumps({"type": "notification", "requestId": "r1"}), 2.0)
        inbox.deliver(json.dumps({"type": "notification", "requestId": "r1"}), 3.0)
        inbox.deliver(json.dumps({"type": "error", "message": "x"}), 4.0)
        inbox.deliver("not json", 5.0)
        early = inbox.expect("r1")  # already arrived: resolves at once
        assert early.done() and early.result() == 2.0
        return await future, inbox

    arrived_at, inbox = asyncio.run(scenario())
    assert arrived_at == 2.0
    assert inbox.arrived == {"r1": 2.0}
    assert inbox.error_frames == 2


# --- backlog ----------------------------------------------------------------------------
def test_backlog_commands_have_the_contract_shape() -> None:
    from functions.contracts.command import parse_command

    entries = backlog.batch_entries(0, 25)
    assert len(entries) == 10
    assert len({entry["Id"] for entry in entries}) == 10
    command = parse_command(entries[0]["MessageBody"])
    assert command.operation == "create"
    assert command.payload == {"name": "backlog 0"}
    assert command.submitted_at_ms > 0
    attributes = entries[0]["MessageAttributes"]
    assert attributes["operation"]["StringValue"] == "create"
    assert attributes["requestId"]["StringValue"] == command.request_id


class _FakeSqs:
    def __init__(self) -> None:
        self.sent = 0

    def send_message_batch(self, QueueUrl: str, Entries: list[Any]) -> dict[str, Any]:
        self.sent += len(Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def test_preload_sends_exactly_the_total_in_batches_of_ten() -> None:
    sqs, seen = _FakeSqs(), list[int]()
    assert backlog.preload(sqs, "url", 23, seen.append) == 23
    assert sqs.sent == 23
    assert seen == [10, 20, 23]


def test_drain_rate_is_net_consumption_between_first_and_last_sample() -> None:
    watcher = backlog.DrainWatcher(sqs=None, queue_url="", started_at=0.0, timeout=1.0)
    watcher.samples = [(0.0, 1000), (1.0, -1), (10.0, 800)]
    assert watcher.drain_rate() == 20.0
    assert watcher.last_depth == 800


# --- /proc ------------------------------------------------------------------------------
def _fake_proc(root: Path, pid: int, children: list[int], rss_kb: int, cmdline: str,
               utime: int = 0, stime: int = 0) -> None:
    (root / str(pid) / "task" / str(pid)).mkdir(parents=True)
    (root / str(pid) / "task" / str(pid) / "children").write_text(
        " ".join(map(str, children)))
    (root / str(pid) / "status").write_text(f"Name:\tpython\nVmRSS:\t  {rss_kb} kB\n")
    (root / str(pid) / "cmdline").write_bytes(cmdline.replace(" ", "\0").encode())
    fields = ["S", "1"] + ["0"] * 9 + [str(utime), str(stime)] + ["0"] * 10
    (root / str(pid) / "stat").write_text(f"{pid} (py thon) " + " ".join(fields))


def test_tree_memory_sums_every_descendant(tmp_path: Path) -> None:
    _fake_proc(tmp_path, 1, [2, 3], 100, "python -m tools.cli bench")
    _fake_proc(tmp_path, 2, [4], 200, "python -m crudops_local.aws.server")
    _fake_proc(tmp_path, 3, [], 300, "python -c spawn")
    _fake_proc(tmp_path, 4, [], 400, "python child")
    assert sorted(processes.descendants(1, tmp_path)) == [1, 2, 3, 4]
    assert processes.tree_rss_bytes(1, tmp_path) == 1000 * 1024
    assert processes.rss_bytes(99, tmp_path) == 0  # gone
    labels = processes.rss_by_label(1, tmp_path)
    assert labels["aws-server (moto)"] == 200 * 1024
    assert labels["bench (gateway, pollers, client)"] == 100 * 1024


def test_cpu_seconds_read_utime_and_stime_after_the_command_name(tmp_path: Path) -> None:
    ticks = os.sysconf("SC_CLK_TCK")
    _fake_proc(tmp_path, 1, [], 1, "x", utime=3 * ticks, stime=ticks)
    assert processes.cpu_seconds(1, tmp_path) == pytest.approx(4.0)
    assert processes.cpu_delta({"a": 1.0}, {"a": 3.5, "b": 2.0}) == {"a": 2.5, "b": 2.0}


def test_this_process_is_measurable() -> None:
    assert processes.rss_bytes(os.getpid()) > 0
    assert os.getpid() in processes.descendants(os.getpid())


# --- recorded calls ------------------------------------------------------------------------
def test_recorded_calls_are_named_by_service_and_action(tmp_path: Path) -> None:
    auth = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/{}/aws4_request, X=y"
    entries = [
        {"headers": {"Authorization": auth.format("dynamodb"),
                     "X-Amz-Target": "DynamoDB_20120810.PutItem"}, "body": ""},
        {"headers": {"Authorization": auth.format("sqs"),
                     "X-Amz-Target": "AmazonSQS.ReceiveMessage"}, "body": ""},
        {"headers": {"Authorization": auth.format("sns")},
         "body": "Action=Publish&TopicArn=x"},
        {"headers": {"Authorization": auth.format("sqs"),
                     "X-Amz-Target": "AmazonSQS.ReceiveMessage"}, "body": ""},
    ]
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    assert calls.count_actions(path) == {"sqs:ReceiveMessage": 2, "dynamodb:PutItem": 1,
                                         "sns:Publish": 1}
    assert calls.count_actions(tmp_path / "missing") == {}


def test_entries_written_concurrently_onto_one_line_are_all_counted(tmp_path: Path) -> None:
    auth = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/sns/aws4_request, X=y"
    entry = json.dumps({"headers": {"Authorization": auth}, "body": "Action=Publish"})
    path = tmp_path / "calls.jsonl"
    path.write_text(entry + entry + "\n" + entry[:20] + "\n" + entry + "\n")
    assert calls.count_actions(path) == {"sns:Publish": 3, calls.UNREADABLE: 1}


def test_the_budget_is_the_median_round() -> None:
    result = BudgetResult(300, (4.0, 3.0, 6.0))
    assert result.requests_per_second == 75.0
    assert result.as_json() == {"requests": 900, "seconds": 13.0, "requests_per_second": 75.0,
                                "rounds_requests_per_second": [75.0, 100.0, 50.0]}


# --- options and report ------------------------------------------------------------------
def test_backlog_sizes_are_parsed_sorted_and_bounded() -> None:
    assert parse_backlogs("10000, 0,1_000,0") == (0, 1000, 10000)
    for bad in ("", "1k", "-5", "1000000"):
        with pytest.raises(ValueError):
            parse_backlogs(bad)


def _report() -> dict[str, Any]:
    report = BenchReport(BenchOptions(), {
        "nproc": 2, "memory_total_bytes": 8 * 1024**3, "cpu_model": "Test CPU",
        "python": "3.11.7", "moto": "5.2.5", "load_average_at_start": [0.1, 0.2, 0.3],
        "date": "2026-01-01T00:00:00+0000"})
    report.budget = {"requests": 900, "seconds": 18.5, "requests_per_second": 50.0,
                     "rounds_requests_per_second": [45.0, 50.0, 55.5]}
    saturation = {"notifications_per_s": 20.0, "accepted_per_s": 21.0, "duration_s": 30.0,
                  "notified_in_window": 600, "accepted": 630}
    latency = {"notify_latency": {"p50_ms": 50.0, "p95_ms": 300.0, "p99_ms": 1200.0,
                                  "count": 300}}
    report.runs = [
        RunResult(0, saturation=saturation, latency=latency, latency_rate_per_s=10.0,
                  idle_memory_bytes=900 * 1024**2, peak_memory_bytes=1100 * 1024**2,
                  cpu_seconds_saturation={"aws-server (moto)": 29.0}),
        RunResult(1000, preload_seconds=3.0, depth_at_load_start=950,
                  drained_after_seconds=None, depth_at_end=12, drain_rate_per_s=18.0,
                  saturation=saturation, latency=latency, latency_rate_per_s=10.0),
    ]
    return report.as_json()


def test_targets_are_judged_on_the_unloaded_run() -> None:
    targets = _report()["targets"]
    assert targets["throughput_ratio"] == {"value": 0.4, "target": ">= 0.5", "met": False}
    assert targets["p99_half_load_ms"]["met"] is False
    assert targets["idle_memory_bytes"]["met"] is True


def test_backlog_targets_are_judged_on_the_largest_backlog() -> None:
    targets = _report()["targets"]
    # drain 18/s at 1,000 against 20 notified/s with none; 3 s for 1,000 is 300 s per 100k
    assert targets["backlog_throughput_ratio"] == {
        "value": 0.9, "backlog": 1000, "target": ">= 0.8", "met": True}
    assert targets["preload_seconds_per_100k"] == {"value": 300.0, "target": "< 60",
                                                   "met": False}
    assert targets["peak_memory_bytes"]["value"] == 1100 * 1024**2
    assert targets["peak_memory_bytes"]["met"] is True
    table = rows(_report())
    assert any("preload ≤ 60 s per 100,000: NOT met" in target
               and "drain / notified at 0 = 0.900 (≥ 0.8: met)" in target
               for _, _, target in table)
    assert any("peak < 2 GiB (every run): met" in target for _, _, target in table)


def test_without_a_backlog_there_is_no_backlog_verdict() -> None:
    report = BenchReport(BenchOptions(), {})
    report.runs = [RunResult(0, saturation={"notifications_per_s": 20.0})]
    targets = report.targets()
    assert targets["backlog_throughput_ratio"]["met"] is False
    assert targets["backlog_throughput_ratio"]["value"] is None


def test_rows_and_markdown_carry_the_figures_and_the_machine() -> None:
    document = _report()
    table = rows(document)
    assert table[0] == ("(a) emulator budget (serial)",
                        "50.0 req/s (median of 3 rounds: 45.0, 50.0, 55.5)", "")
    assert any("b/a = 0.400" in target and "NOT met" in target for _, _, target in table)
    assert any("not drained" in value for _, value, _ in table)
    text = markdown(document)
    assert "Test CPU" in text and "`crudops bench`" in text
    assert "| aws-server (moto) | 29.0 s |" in text


def test_rewriting_results_keeps_the_hand_written_notes(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text("# old figures\n\n## Notes\n\nmoto is the bottleneck.\n")
    assert kept_notes(path.read_text()).startswith("## Notes")
    write_results(_report(), path)
    text = path.read_text()
    assert "old figures" not in text
    assert text.rstrip().endswith("moto is the bottleneck.")


def test_bench_redrive_options_are_checked_before_anything_starts() -> None:
    from tools.bench import do_bench_redrive
    from tools.errors import UserError

    for options, message in [({"depth": 5}, "--depth 5 is outside"),
                             ({"concurrency": "0,4"}, "--concurrency takes"),
                             ({"concurrency": "a"}, "not a list of whole numbers"),
                             ({"memory_depths": "1"}, "--memory-depths takes")]:
        arguments = {"depth": 1000, "concurrency": "1", "memory_depths": "1000", **options}
        with pytest.raises(UserError, match=message):
            do_bench_redrive(**arguments)  # type: ignore[arg-type]


def test_bench_redrive_compares_each_redrive_with_the_bare_loop_of_its_threads() -> None:
    from benchmarks.redrive import RedriveBench, RunResult

    result = RedriveBench(depth=1000, concurrencies=[1, 4], runs=[
        RunResult("redrive", 1, 1000, 1000, 4.0, requests=303),
        RunResult("bare", 1, 1000, 1000, 2.0),
        RunResult("redrive", 4, 1000, 1000, 2.0, requests=310),
        RunResult("redrive", 1, 300, 300, 1.0, requests=92)])
    assert result.ratio(1) == 0.5 and result.ratio(4) is None  # no bare run at 4
    document = result.as_json()
    assert document["ratios"] == {"1": 0.5, "4": None}
    assert document["runs"][0]["requests_per_message"] == 0.303
