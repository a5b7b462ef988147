"""Running DVC from flows: the stage environment, streamed output, and waiting out DVC's lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ganaudio.orchestration import dvc
from ganaudio.tracking import PARENT_RUN_ENV


def test_stage_env_uses_this_python_one_store_and_the_parent_run(tmp_path):
    base = {"PATH": "/usr/bin", "MLFLOW_TRACKING_URI": "sqlite:///mlflow.db", PARENT_RUN_ENV: "stale"}
    env = dvc.stage_env(tmp_path, "abc123", base=base)
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["MLFLOW_TRACKING_URI"] == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert env[PARENT_RUN_ENV] == "abc123"
    assert PARENT_RUN_ENV not in dvc.stage_env(tmp_path, None, base=base)
    assert dvc.stage_env(tmp_path, base={"MLFLOW_TRACKING_URI": "http://mlflow:5000"})["MLFLOW_TRACKING_URI"] \
        == "http://mlflow:5000"


def test_stream_forwards_lines_as_they_come_and_thins_progress_bars(tmp_path):
    script = ("import sys\n"
              "print('first', flush=True)\n"
              "for i in range(50): sys.stderr.write(f'\\rbar {i}%'); sys.stderr.flush()\n"
              "sys.stderr.write('\\n')\n"
              "print('last'); sys.exit(3)\n")
    lines = []
    code, tail = dvc.stream([sys.executable, "-c", script], tmp_path, dict(os.environ), lines.append)
    assert code == 3
    assert lines[0] == "first" and lines[-1] == "last"
    bars = [line for line in lines if line.startswith("bar")]
    assert 1 <= len(bars) < 5  # 50 redraws, thinned to about one per PROGRESS_EVERY_S
    assert tail == lines
    assert bars[-1] == "bar 49%"  # a bar's final state always shows


def test_dvc_hints_are_dropped_and_everything_else_kept():
    # What `dvc repro` prints after a stage in a git repo (DVC 3.67), as stream() hands it over.
    printed = ["Running stage 'hello':", '> python -c "print(1)"', "Updating lock file 'dvc.lock'",
               "To track the changes with git, run:", "\tgit add .gitignore dvc.lock",
               "To enable auto staging, run:", "\tdvc config core.autostage true",
               "Use `dvc push` to send your updates to remote storage.",
               "stage output mentioning git add and dvc push"]
    kept = []
    forward = dvc.without_hints(kept.append)
    for line in printed:
        forward(line)
    assert kept == ["Running stage 'hello':", '> python -c "print(1)"', "Updating lock file 'dvc.lock'",
                    "stage output mentioning git add and dvc push"]


def test_stages_under_a_flow_print_no_timestamps_of_their_own(tmp_path):
    from ganaudio.utils.logs import TIMESTAMPS_ENV

    env = dvc.stage_env(tmp_path, base={"PATH": "/usr/bin"})
    assert env[TIMESTAMPS_ENV] == "0" and env["MLFLOW_CONFIGURE_LOGGING"] == "false"
    code = ("import logging; from ganaudio.utils.logs import setup_logging; setup_logging(); "
            "logging.getLogger('ganaudio.x').info('hello')")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, TIMESTAMPS_ENV: "0"},
                         capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert out.stderr.strip() == "INFO ganaudio.x: hello"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if k != TIMESTAMPS_ENV},
                         cwd=Path(__file__).parents[2])
    assert out.stderr.strip().endswith("INFO ganaudio.x: hello") and out.stderr[:4].isdigit()


@pytest.fixture
def dvc_repo(tmp_path):
    """A minimal git + DVC repo with one stage that writes out.txt."""
    run = lambda *a: subprocess.run(a, cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("git", "init", "-q")
    run(sys.executable, "-m", "dvc", "init", "-q")
    (tmp_path / "dvc.yaml").write_text("stages:\n  hello:\n    cmd: python -c \"open('out.txt','w').write('hi')\"\n"
                                       "    outs: [out.txt]\n  broken:\n    cmd: python -c \"raise SystemExit('boom')\"\n")
    return tmp_path


@pytest.mark.slow  # DVC itself tries its lock for 3 s before giving up
def test_a_held_dvc_lock_is_waited_out_then_the_stage_runs(dvc_repo):
    from dvc.lock import make_lock

    env = dvc.stage_env(dvc_repo, base={**os.environ, "DVC_NO_ANALYTICS": "1"})
    lock = make_lock(str(dvc_repo / ".dvc/tmp/lock"), tmp_dir=str(dvc_repo / ".dvc/tmp"))
    lock.lock()  # as another `dvc repro` would
    lines = []

    def on_line(line):
        lines.append(line)
        if "retrying" in line:
            lock.unlock()  # the other process finishes while we wait

    assert dvc.repro_stage("hello", dvc_repo, env, on_line=on_line, lock_wait_s=0.1) is True
    assert (dvc_repo / "out.txt").read_text() == "hi"
    assert any("retrying" in line for line in lines)
    assert any(line.startswith("Running stage 'hello'") for line in lines)
    # DVC's advice for a person at a terminal does not reach the flow's log.
    assert not any("git add" in line or "autostage" in line or "dvc push" in line for line in lines), lines
    assert dvc.repro_stage("hello", dvc_repo, env, on_line=lines.append) is False  # up to date: DVC skips it


@pytest.mark.slow
def test_a_lock_never_released_and_a_failing_stage_are_errors(dvc_repo):
    from dvc.lock import make_lock

    env = dvc.stage_env(dvc_repo, base={**os.environ, "DVC_NO_ANALYTICS": "1"})
    with pytest.raises(dvc.DvcError, match="boom"):
        dvc.repro_stage("broken", dvc_repo, env, on_line=lambda line: None)
    lock = make_lock(str(dvc_repo / ".dvc/tmp/lock"), tmp_dir=str(dvc_repo / ".dvc/tmp"))
    lock.lock()
    try:
        with pytest.raises(dvc.DvcLockError, match="still held after 0 retries"):
            dvc.repro_stage("hello", dvc_repo, env, on_line=lambda line: None, lock_retries=0)
    finally:
        lock.unlock()


def test_calls_in_one_process_take_turns_per_workspace(dvc_repo):
    env = dvc.stage_env(dvc_repo, base={**os.environ, "DVC_NO_ANALYTICS": "1"})
    errors = []

    def go():
        try:
            dvc.run_dvc(["repro", "--force", "--single-item", "hello"], dvc_repo, env, lambda line: None, lock_retries=0)
        except dvc.DvcError as e:
            errors.append(e)

    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []  # with no retries allowed, only the mutex keeps them off DVC's lock
