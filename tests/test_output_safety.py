"""The output folder: nothing lost, one run at a time, crash-safe replacement, Ctrl-C.

The unit tests drive ``mcuforge._output`` directly. The end-to-end tests run
``mcuforge generate`` as separate processes on a tiny spec (one pinned tree recipe, a
trial or two, ``--no-measure``): two runs on one output at once, SIGKILL at random
points of the output write, and SIGINT during a trial.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

import optuna
import pytest

from mcuforge import _output
from mcuforge._output import (
    MARKER,
    OutputBusyError,
    OutputLock,
    clean_stale,
    commit,
    replace_problem,
    stage,
)
from mcuforge.pipeline import prepare
from mcuforge.search import SearchSettings, _storage, run_search

from .conftest import EXAMPLE, ROOT

SPEC = f"""\
version: 1
name: tiny
data:
  format: csv
  path: {EXAMPLE / "data"}
  sensors:
    - {{name: accel, channels: [ax, ay, az], unit: g, rate_hz: 10}}
    - {{name: gyro, channels: [gx, gy, gz], unit: dps, rate_hz: 10}}
  window: {{length_s: 10, stride_s: 10}}
  split: {{test_files: ["*/test_*.csv"]}}
target: nrf52840
budgets: {{sram_kb: 4, flash_kb: 16}}
search: {{trials: 1, seed: 7}}
recipe: imu-stats-tree
output: {{dir: out, test_windows: 2}}
"""


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "generator"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "NO_COLOR": "1",
    }


def _mcuforge(*args: str) -> list[str]:
    return [sys.executable, "-c", "from mcuforge.cli import main; main()", *args]


def _whole(out: Path) -> bool:
    return (out / MARKER).is_file() and (out / "report.json").is_file()


# ---------------------------------------------------------------- units


def test_force_replaces_only_folders_mcuforge_wrote(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert replace_problem(out, force=False) is None
    out.mkdir()
    assert replace_problem(out, force=False) is None  # empty
    (out / "thesis.tex").write_text("years of work")
    for force in (False, True):
        why = replace_problem(out, force)
        assert why is not None and "was not written by mcuforge" in why
    (out / MARKER).write_text("{}")
    assert "pass --force" in (replace_problem(out, False) or "")
    assert replace_problem(out, True) is None
    (tmp_path / "file").write_text("x")
    assert "not a directory" in (replace_problem(tmp_path / "file", True) or "")


def test_commit_swaps_in_one_step_with_the_usual_permissions(tmp_path: Path) -> None:
    old_mask = os.umask(0o022)
    try:
        out = tmp_path / "out"
        for round_ in range(2):
            tmp = stage(out, {"spec": "s"})
            (tmp / "sub").mkdir()
            (tmp / "sub" / "f.txt").write_text(str(round_))
            commit(tmp, out)
            assert (out / "sub" / "f.txt").read_text() == str(round_)
        assert stat.S_IMODE(out.stat().st_mode) == 0o755
        assert stat.S_IMODE((out / MARKER).stat().st_mode) == 0o644
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    finally:
        os.umask(old_mask)


def test_leftovers_are_removed_only_when_they_carry_the_marker(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ours = tmp_path / ".out.tmp-123-0a1b2c3d"
    ours.mkdir()
    (ours / "firmware").mkdir()
    (ours / "firmware" / "x.c").write_text("int x;")
    (ours / MARKER).write_text("{}")
    empty = tmp_path / ".out.old-124-0a1b2c3d"
    empty.mkdir()
    foreign = tmp_path / ".out.tmp-125-0a1b2c3d"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not ours")
    other = tmp_path / ".other.tmp-126-0a1b2c3d"
    other.mkdir()
    (other / MARKER).write_text("{}")
    done = clean_stale(out)
    assert len(done) == 2
    assert not ours.exists() and not empty.exists()
    assert (foreign / "notes.txt").exists() and other.exists()


def test_a_second_holder_of_the_output_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "out"  # the parent is created (no misleading study error)
    with OutputLock(out):
        assert (tmp_path / "deep" / ".out.lock").is_file()
        with pytest.raises(OutputBusyError, match=rf"another mcuforge run \(pid {os.getpid()} "):
            OutputLock(out).__enter__()
    assert not (tmp_path / "deep" / ".out.lock").exists()
    with OutputLock(out):  # free again
        pass


_FALLBACK = """
import os, signal, sys
from pathlib import Path
from mcuforge import _output
from mcuforge.pipeline import prepare
from mcuforge.search import SearchSettings, _storage, run_search
out = Path(sys.argv[1])
_output._exchange = lambda a, b: False  # a file system without RENAME_EXCHANGE
tmp = _output.stage(out, {})
(tmp / "new.txt").write_text("new")
renames = []
real = os.rename
def rename(a, b):
    renames.append(a)
    if len(renames) == 2:  # killed between moving the old aside and the new in
        os.kill(os.getpid(), signal.SIGKILL)
    real(a, b)
os.rename = rename
_output.commit(tmp, out)
"""


def test_the_two_rename_fallback_puts_the_old_output_back(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = stage(out, {})
    (first / "old.txt").write_text("old")
    commit(first, out)
    proc = subprocess.run([sys.executable, "-c", _FALLBACK, str(out)], env=_env(), cwd=tmp_path)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()  # the moment between two renames
    done = clean_stale(out)  # the next run: the old output back, the staged one removed
    assert done[0] == f"restored {out} from an interrupted replacement" and len(done) == 2
    assert (out / "old.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_exchange_swaps_two_folders_in_one_step(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not _output._exchange(a, b):
        pytest.skip("this file system cannot exchange folders (the two-rename fallback is used)")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


@pytest.mark.slow
def test_a_dead_workers_trial_is_failed_by_its_heartbeat_and_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared study: no lock, the heartbeat tells a dead worker's trial from a live one."""
    monkeypatch.setattr(_storage, "HEARTBEAT_S", 1)
    monkeypatch.setattr(_storage, "GRACE_S", 1)
    p = prepare(_spec(tmp_path))
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    run_search(p.plan, p.dataset, SearchSettings(trials=1, storage=url), lambda s: None)
    study = optuna.load_study(study_name="tiny", storage=_storage.open_storage(url))
    first = study.trials[0]
    # other parameters than the first trial's (drawn at random they may be the same, and the
    # re-run is then pruned as its duplicate)
    name, dist = next(
        (n, d)
        for n, d in first.distributions.items()
        if isinstance(d, optuna.distributions.CategoricalDistribution) and len(d.choices) > 1
    )
    other = next(c for c in dist.choices if c != first.params[name])
    study.enqueue_trial({**first.params, name: other})
    with warnings.catch_warnings():  # Optuna: heartbeats are meant for optimize()
        warnings.simplefilter("ignore", UserWarning)
        dead = study.ask(fixed_distributions=first.distributions)  # its worker dies
    assert dead.params != first.params
    study._storage.record_heartbeat(dead._trial_id)
    time.sleep(3)  # the database clock may count whole seconds
    logs: list[str] = []
    res = run_search(p.plan, p.dataset, SearchSettings(trials=2, storage=url), logs.append)
    assert "search: 1 trial(s) of an interrupted run marked failed; re-running them" in logs
    # the dead trial is failed in the study, and left out of the result: it ran again
    assert dead.number not in {t.number for t in res.trials}
    trials = optuna.load_study(study_name="tiny", storage=url).trials
    assert trials[dead.number].state.name == "FAIL"
    redo = [t for t in trials if t.system_attrs.get("failed_trial") == dead.number]
    assert len(redo) == 1 and redo[0].state.name == "COMPLETE"
    assert redo[0].params == trials[dead.number].params


# ---------------------------------------------------------------- end to end


def _spec(tmp_path: Path) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    return spec


@pytest.mark.slow
def test_two_generates_on_one_output_give_one_clean_message_and_one_result(
    tmp_path: Path,
) -> None:
    spec = _spec(tmp_path)
    held, release = tmp_path / "held", tmp_path / "release"
    # the first run holds the output and waits in its first trial until the second has
    # run (without the wait, a slow second start found the first run done: no clash)
    args = ["generate", str(spec), "--no-measure", "--trials", "40", "-q"]
    first = subprocess.Popen(
        [sys.executable, "-c", _HELD_TRIAL, str(held), str(release), *args],
        env=_env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not held.exists():
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    assert (tmp_path / ".out.lock").exists()
    second = subprocess.run(
        _mcuforge("generate", str(spec), "--no-measure", "--trials", "2"),
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    release.write_text("go on")
    _, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 2, second.stderr
    lines = second.stderr.strip().splitlines()
    assert lines[-1].startswith("error: another mcuforge run (pid ")
    assert "is using" in lines[-1] and "Traceback" not in second.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["search"]["trials"] == 40 and report["parity"]["agree"] == 40
    held.unlink()
    release.unlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mcuforge.lock", "out", "spec.yaml"]


_KILLER = """
import json, os, random, signal, sys
from pathlib import Path
from click.testing import CliRunner
import mcuforge.pipeline._write as pipeline
from mcuforge.cli import cli

spec, out, seed = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
args = ["generate", str(spec), "--no-measure", "--force"]
WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT
EVENTS = {"os.rename", "os.remove", "os.rmdir", "os.mkdir", "shutil.rmtree", "os.chmod",
          "shutil.copyfile", "shutil.move", "os.truncate"}
EXCHANGE = {"renameat2", "renamex_np"}  # looked up right before the atomic exchange


def child(kill_at):
    armed, count, exchange = [False], [0], [0]
    real_stage = pipeline.stage

    def stage(*a, **k):
        armed[0] = True
        return real_stage(*a, **k)

    pipeline.stage = stage

    def hook(event, hargs):
        if not armed[0]:
            return
        if event == "open":
            mode, flags = hargs[1], hargs[2]
            if not ((mode and any(c in mode for c in "wax+")) or (mode is None and flags & WRITES)):
                return
        elif event == "ctypes.dlsym":
            if hargs[1] not in EXCHANGE:
                return
        elif event not in EVENTS:
            return
        count[0] += 1
        if event == "ctypes.dlsym":
            exchange[0] = count[0]
        if count[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    sys.addaudithook(hook)
    res = CliRunner().invoke(cli, args)
    Path(os.environ["COUNT_FILE"]).write_text(json.dumps([count[0], exchange[0], res.exit_code]))
    os._exit(0)


def forked(kill_at):
    pid = os.fork()
    if pid == 0:
        child(kill_at)
    return os.waitpid(pid, 0)[1]


def files(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def whole(ref):
    if not out.is_dir():
        return "no output"
    got = files(out)
    if set(got) != set(ref):
        return f"files differ: {sorted(set(got) ^ set(ref))[:5]}"
    for name, data in got.items():
        if name.startswith(("report.", "study.db", ".mcuforge")):
            if not data or (name.endswith(".json") and not json.loads(data)):
                return f"{name} is empty"
        elif data != ref[name]:
            return f"{name} differs"
    return "whole"


assert CliRunner().invoke(cli, args).exit_code == 0  # the old output and the study
ref = files(out)
os.environ["COUNT_FILE"] = str(out.parent / "count.json")
forked(0)  # count the write operations of one run
total, exchange, code = json.loads(Path(os.environ["COUNT_FILE"]).read_text())
assert code == 0 and total > 10 and exchange > 0, (total, exchange, code)
rng = random.Random(seed)
points = sorted({1, *rng.sample(range(1, total + 1), 5), exchange, exchange + 1, total})
results = []
for k in points:
    status = forked(k)
    results.append({"kill_at": k, "killed": os.WIFSIGNALED(status), "state": whole(ref)})
os.unlink(os.environ["COUNT_FILE"])
final = CliRunner().invoke(cli, args)
print(json.dumps({"total": total, "exchange": exchange, "results": results,
                  "final": final.exit_code, "final_state": whole(ref), "log": final.output}))
"""


@pytest.mark.slow
def test_sigkill_during_the_output_write_leaves_the_old_or_the_new_output_whole(
    tmp_path: Path,
) -> None:
    spec = _spec(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER, str(spec), str(tmp_path / "out"), "16"],
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(report["results"]) >= 6
    for r in report["results"]:
        assert r["killed"], r
        assert r["state"] == "whole", r  # at every point: the old or the new output, whole
    assert report["final"] == 0 and report["final_state"] == "whole"
    # the next run removed what the killed ones left (a staging folder, the old output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mcuforge.lock", "out", "spec.yaml"]


_HELD_TRIAL = """
import sys, time
from pathlib import Path
import mcuforge.search._objective as objective_module
real_cv = objective_module.cross_validate
held, release = Path(sys.argv[1]), Path(sys.argv[2])
def cross_validate(*a, **k):
    held.write_text("in trial")  # the first trial that trains waits for the test
    deadline = time.monotonic() + 300
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return real_cv(*a, **k)
objective_module.cross_validate = cross_validate
from mcuforge.cli import main
sys.argv = ["mcuforge", *sys.argv[3:]]
main()
"""


_SLOW_TRIAL = """
import faulthandler, signal, sys, time
from pathlib import Path
faulthandler.register(signal.SIGUSR1)  # the test asks for the stacks if it hangs
# Ctrl-C as on a terminal: a runner started in the background (`cmd &` in a script)
# passes SIGINT on ignored, and Python then keeps ignoring it
signal.signal(signal.SIGINT, signal.default_int_handler)
import mcuforge.search._objective as objective_module
import mcuforge.search._run as run_module
real_objective, real_cv = run_module.make_objective, objective_module.cross_validate
current, flag = [0], Path(sys.argv[1])
def make_objective(*a, **k):
    objective = real_objective(*a, **k)
    def tracked(trial):
        current[0] = trial.number
        return objective(trial)
    return tracked
def cross_validate(*a, **k):
    if current[0] >= 2:  # the first trial from #2 on that trains hangs until Ctrl-C
        flag.write_text("in trial")
        time.sleep(120)
    return real_cv(*a, **k)
run_module.make_objective = make_objective
objective_module.cross_validate = cross_validate
from mcuforge.cli import main
sys.argv = ["mcuforge", *sys.argv[2:]]
main()
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "code", "said"),
    [
        (signal.SIGINT, 130, "interrupted"),
        # `kill`, `timeout`, a cancelled CI job: the process died at once, and the next
        # run counted the trial it left running as a worker's death
        (signal.SIGTERM, 143, "terminated (SIGTERM)"),
    ],
)
def test_ctrl_c_prints_one_line_keeps_the_trials_and_the_next_run_redoes_the_trial(
    tmp_path: Path, sig: signal.Signals, code: int, said: str
) -> None:
    spec = _spec(tmp_path)
    flag = tmp_path / "flag"
    args = ["generate", str(spec), "--no-measure", "--trials", "4", "-v"]
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_TRIAL, str(flag), *args],
        env=_env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not flag.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # say where it hangs (every thread's stack)
        proc.send_signal(signal.SIGUSR1)
        time.sleep(2)
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"no exit 60 s after {sig.name}; stacks:\n{err[-6000:]}")
    assert proc.returncode == code, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith(f"{said}: no output was written; the finished search")
    noise = [
        ln for ln in lines[:-1] if not ln.startswith(("data:", "recipes:", "search:", "trial #"))
    ]
    assert noise == [] and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    storage = f"sqlite:///{tmp_path / '.out.study.db'}"
    trials = optuna.load_study(study_name="tiny", storage=storage).trials
    failed = [t for t in trials if t.state.name == "FAIL"]
    waiting = [t for t in trials if t.state.name == "WAITING"]
    assert len(failed) == 1 and len(waiting) == 1 and waiting[0].params == failed[0].params
    assert waiting[0].system_attrs["deaths"] == 0  # stopped by the user: no worker died
    assert all(
        t.state.name in ("COMPLETE", "PRUNED") for t in trials if t.number < failed[0].number
    )

    done = subprocess.run(
        _mcuforge(*args), env=_env(), cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    storage = f"sqlite:///{tmp_path / 'out' / 'study.db'}"
    trials = optuna.load_study(study_name="tiny", storage=storage).trials
    redo = [t for t in trials if t.system_attrs.get("failed_trial") == failed[0].number]
    assert len(redo) == 1 and redo[0].state.name == "COMPLETE"
    assert redo[0].params == failed[0].params
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in trials) == 4  # the total
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["search"]["trials"] == 4  # the interrupted one ran again: counted once
