"""The operator's entry points, run as processes: `crudops local up` and `crudops demo`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.processes import descendants
from crudops_local.run import LocalStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

CRUDOPS = [sys.executable, "-m", "tools.cli"]
REPO_ROOT = Path(__file__).resolve().parents[2]


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = str(REPO_ROOT)
    return environment


def _local_token(directory: Path) -> str:
    """`crudops local token --json` run where the stack's state file is, as a user would."""
    result = subprocess.run([*CRUDOPS, "local", "token", "--json"], cwd=directory,
                            env=_environment(), capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    issued = json.loads(result.stdout)
    assert set(issued) == {"user", "token", "expiresAt"} and issued["user"] == "crudops-dev"
    token: str = issued["token"]
    return token


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first stdout line, or fail after `timeout` showing what stderr said."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0]:
        process.kill()
        _, errors = process.communicate(timeout=10)
        raise AssertionError(f"no output within {timeout:g} s; stderr: {errors[-2000:]}")
    return lines[0]


def test_local_up_prints_its_endpoints_serves_and_stops_cleanly_on_sigterm(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    # GIVEN the template the session synthesized (no second synth)
    template = local_stack.options.template
    process = subprocess.Popen(
        [*CRUDOPS, "local", "up", "--template", str(template), "--json"],
        cwd=tmp_path, env=_environment(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        endpoints = json.loads(_first_line(process, timeout=120))
        assert set(endpoints) >= {"rest_url", "ws_url", "aws_endpoint"}
        assert endpoints["rest_url"].startswith("http://127.0.0.1:")
        assert endpoints["ws_url"].startswith("ws://127.0.0.1:")
        state = json.loads((tmp_path / ".crudops" / "local-stack.json").read_text())
        assert state["rest_url"] == endpoints["rest_url"]

        token = _local_token(tmp_path)
        response = httpx.post(f"{endpoints['rest_url']}/items", json={"name": "via cli"},
                              headers={"Authorization": token}, timeout=30)
        assert response.status_code == 202

        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=60)
        assert process.returncode == 0
        assert "Traceback" not in errors, errors[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert not (tmp_path / ".crudops" / "local-stack.json").exists()


def test_demo_against_the_running_local_stack_answers_every_step(
        local_stack: LocalStack, tmp_path: Path) -> None:
    # GIVEN the running stack's description where `--local` looks for it
    assert local_stack.options.state_file is not None
    (tmp_path / ".crudops").mkdir()
    (tmp_path / ".crudops" / "local-stack.json").write_text(
        local_stack.options.state_file.read_text())
    result = subprocess.run(
        [*CRUDOPS, "demo", "--local", "--json"], cwd=tmp_path,
        env=_environment(), text=True, capture_output=True, timeout=300,
    )

    steps = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0, (result.stdout, result.stderr[-2000:])
    assert [s["step"] for s in steps] == [
        "create", "get", "list", "update", "update (stale version)", "delete", "bad request"]
    assert all(s["ok"] for s in steps), steps
    notified = [s for s in steps if s["status"]]
    assert len(notified) == 6
    assert all(s["latencyMs"] is not None and s["latencyMs"] >= 0 for s in notified)


def test_local_up_with_a_missing_template_is_a_user_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CRUDOPS, "local", "up", "--template", str(tmp_path / "nope.json")],
        cwd=tmp_path, env=_environment(), text=True, capture_output=True, timeout=120,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("option", ["--aws-port", "--port"])
def test_local_up_on_a_port_in_use_is_one_line(tmp_path: Path, e2e_template: Path,
                                                option: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        result = subprocess.run(
            [*CRUDOPS, "local", "up", "--template", str(e2e_template), option, str(taken)],
            cwd=tmp_path, env=_environment(), text=True, capture_output=True, timeout=300,
        )
    assert result.returncode == 2, result.stderr
    assert f"127.0.0.1:{taken}" in result.stderr or "in use" in result.stderr
    assert "--port 0 --aws-port 0" in result.stderr
    assert "Traceback" not in result.stderr


def test_local_up_listens_on_fixed_ports_by_default() -> None:
    from typer.testing import CliRunner

    from tools.cli import app

    environment = {"CRUDOPS_PORT": "", "CRUDOPS_AWS_PORT": "", "COLUMNS": "200"}
    text = CliRunner().invoke(app, ["local", "up", "--help"], env=environment).output
    assert "[default: 3000]" in text and "[default: 4566]" in text


# --- Ctrl-C as a terminal sends it: SIGINT to the whole foreground process group -------
# Started with `process_group=0`, `crudops local up` leads a group of its own, as a
# shell's foreground job does; `os.killpg(pid, SIGINT)` is then what Ctrl-C does.
READY_LINE = "Running; Ctrl-C stops it."
SYNTH_DEADLINE_SECONDS = 300.0


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pids: list[int]) -> list[str]:
    """The command lines of those processes still running (zombies count as gone)."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.append(f"{pid}: {_command_line(pid)}")
    return alive


def _start_in_own_group(tmp_path: Path, *arguments: str) -> tuple[subprocess.Popen[str], Path]:
    output = tmp_path / "output.txt"
    process = subprocess.Popen(
        [*CRUDOPS, "local", "up", *arguments], cwd=tmp_path, env=_environment(), text=True,
        stdin=subprocess.DEVNULL, stdout=output.open("w"), stderr=subprocess.STDOUT,
        process_group=0)
    return process, output


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def test_ctrl_c_stops_local_up_with_one_line_and_leaves_no_process(tmp_path: Path) -> None:
    # GIVEN `local up` synthesizing its own template, serving, with warm workers
    process, output = _start_in_own_group(tmp_path, "--out", str(tmp_path / "cdk.out"))
    try:
        wait_until(output.read_text, lambda text: READY_LINE in text or process.poll() is not None,
                   timeout=SYNTH_DEADLINE_SECONDS, interval=0.5, describe="local up ready")
        assert process.poll() is None, output.read_text()[-3000:]
        rest_url = output.read_text().split("REST API", 1)[1].split()[0]
        auth = {"Authorization": _local_token(tmp_path)}
        request_id = httpx.post(f"{rest_url}/items", json={"name": "before ctrl-c"},
                                headers=auth, timeout=30).json()["requestId"]
        wait_until(lambda: httpx.get(f"{rest_url}/requests/{request_id}", headers=auth,
                                     timeout=30),
                   lambda r: r.status_code == 200, timeout=120, describe="the outcome")
        # THEN while it runs, no Node.js process (the jsii kernel of synthesis) is its
        tree = descendants(process.pid)
        assert len(tree) >= 3, [_command_line(pid) for pid in tree]  # server, workers
        assert not [c for c in map(_command_line, tree) if "node" in c.split(" ")[0]]

        # WHEN Ctrl-C reaches the whole group
        printed_before = len(output.read_text())
        os.killpg(process.pid, signal.SIGINT)
        code = process.wait(timeout=120)
    finally:
        _stop(process)

    # THEN it stops cleanly, says so in one line, and leaves nothing running
    after = output.read_text()[printed_before:]
    assert code == 0, after
    assert "Traceback" not in after and len(after.splitlines()) <= 2, after
    wait_until(lambda: _alive(tree), lambda alive: not alive, timeout=30,
               describe="every process of the stack gone")
    assert not (tmp_path / ".crudops" / "local-stack.json").exists()


def test_ctrl_c_during_synthesis_prints_one_line_and_stops_node(tmp_path: Path) -> None:
    # GIVEN `local up` in the middle of synthesizing, Node.js running
    process, output = _start_in_own_group(tmp_path, "--out", str(tmp_path / "cdk.out"))
    try:
        def synthesis() -> list[int]:
            return [pid for pid in descendants(process.pid)
                    if "tools.synth" in _command_line(pid) or "jsii" in _command_line(pid)]

        busy = wait_until(synthesis, lambda pids: len(pids) >= 2 or process.poll() is not None,
                          timeout=SYNTH_DEADLINE_SECONDS, interval=0.05,
                          describe="the synthesis child and its Node.js")
        assert process.poll() is None, output.read_text()[-3000:]

        # WHEN Ctrl-C reaches the group
        os.killpg(process.pid, signal.SIGINT)
        code = process.wait(timeout=60)
    finally:
        _stop(process)

    # THEN one line, exit code 130, and synthesis stopped with its Node.js
    printed = output.read_text()
    assert code == 130, printed
    assert printed.strip() == "interrupted", printed
    wait_until(lambda: _alive(busy), lambda alive: not alive, timeout=30,
               describe="the synthesis processes gone")


def test_local_up_publishes_an_alarm_to_the_alarm_topic_and_prints_it_once(
        e2e_template: Path, tmp_path: Path) -> None:
    """Its own stack (the session stack's DLQ alarm may already be in ALARM, which a
    second message would not change), with the CLI's default alarm timing. The message
    is sent to the DLQ directly: how a poison one gets there is test_failures' part,
    and its maxReceiveCount retries would only add half a minute here."""
    import boto3

    errors = (tmp_path / "stderr.txt").open("w")
    process = subprocess.Popen(
        [*CRUDOPS, "local", "up", "--template", str(e2e_template), "--json"],
        cwd=tmp_path, env=_environment(), text=True, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=errors)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)  # type: ignore[arg-type]
    try:
        endpoints = json.loads(_first_line(process, timeout=120))
        reader.start()
        state = json.loads((tmp_path / ".crudops" / "local-stack.json").read_text())

        def client(service: str) -> Any:
            return boto3.client(service, endpoint_url=endpoints["aws_endpoint"],
                                region_name=state["region"], aws_access_key_id="local",
                                aws_secret_access_key="local")

        def ref(prefix: str, resource_type: str) -> str:
            (found,) = [r["ref"] for logical_id, r in state["resources"].items()
                        if logical_id.startswith(prefix) and r["type"] == resource_type]
            return str(found)

        # GIVEN a queue of ours subscribed to the stack's alarm topic
        sns, sqs = client("sns"), client("sqs")
        queue_url = sqs.create_queue(QueueName="e2e-alarm-subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=ref("ObservabilityAlarmsTopic", "AWS::SNS::Topic"),
                      Protocol="sqs", Endpoint=queue_arn)

        # WHEN a message lands in the create DLQ
        sqs.send_message(QueueUrl=ref("MessagingCreateConsumerDlq", "AWS::SQS::Queue"),
                         MessageBody="not a command at all")

        # THEN the subscriber gets CloudWatch's ALARM notification for the DLQ alarm
        def alarms_received() -> list[dict[str, Any]]:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=5).get("Messages", [])
            found = [json.loads(json.loads(m["Body"])["Message"]) for m in messages]
            return [m for m in found if m["AlarmName"] == "Crudops-create-dlq-not-empty"
                    and m["NewStateValue"] == "ALARM"]

        (message,) = wait_until(alarms_received, bool, timeout=240, interval=0,
                                describe="the create DLQ alarm's notification")
        assert message["Trigger"]["Metrics"][0]["MetricStat"]["Metric"]["MetricName"] == (
            "ApproximateNumberOfMessagesVisible")

        # AND `local up` printed that change once, as a JSON line, and no settling
        def printed() -> list[dict[str, Any]]:
            return [json.loads(line) for line in list(lines) if line.startswith('{"type"')]

        changes = wait_until(printed, lambda found: any(
            c["alarm"] == "Crudops-create-dlq-not-empty" for c in found), timeout=30,
            describe="the printed alarm line")
        assert [c["state"] for c in changes if c["alarm"] == "Crudops-create-dlq-not-empty"
                ] == ["ALARM"]
        assert not [c for c in changes if (c["previous"], c["state"]) == (
            "INSUFFICIENT_DATA", "OK")]

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        errors.close()
