"""The search: determinism, resumption, storages, objectives, workers, PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
from click.testing import CliRunner

from mcuforge.cli import cli
from mcuforge.errors import BudgetError
from mcuforge.pipeline import prepare
from mcuforge.search import SearchError, SearchSettings, run_search
from mcuforge.search._control import admitted, counted, not_run
from mcuforge.search._resume import lost_trial, optimize_on, optimize_quietly
from mcuforge.search._storage import open_storage

from .conftest import ROOT

#: A recipe whose space holds two configurations (max_depth 2 or 3), nothing else.
TWO_POINTS = (
    "{name: imu-stats-tree, overrides: {space: {max_depth: {choice: [2, 3]}, "
    "min_samples_leaf: {choice: [1]}}, fixed: {stats.features: [mean, std], "
    "layout: inline, stats.numeric: float32}}}"
)


def _settings(tmp: Path, trials: int, **kw: object) -> SearchSettings:
    return SearchSettings(trials=trials, storage=f"sqlite:///{tmp / 'study.db'}", **kw)  # type: ignore[arg-type]


def test_same_seed_same_trials_and_best(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    p = prepare(write_spec())
    runs = []
    for i in range(2):
        d = tmp_path / str(i)
        d.mkdir()
        runs.append(run_search(p.plan, p.dataset, _settings(d, 6), lambda s: None))
    a, b = runs
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert [t.score for t in a.trials] == [t.score for t in b.trials]
    assert a.best_trial == b.best_trial and a.ranked == b.ranked


def test_resume_runs_only_missing_trials(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    p = prepare(write_spec())
    first = run_search(p.plan, p.dataset, _settings(tmp_path, 3), lambda s: None)
    logs: list[str] = []
    second = run_search(p.plan, p.dataset, _settings(tmp_path, 5), logs.append)
    assert len(first.trials) == 3 and len(second.trials) == 5
    assert [t.params for t in second.trials[:3]] == [t.params for t in first.trials]
    assert any("3 finished trials; running 2 more" in m for m in logs)
    again = run_search(p.plan, p.dataset, _settings(tmp_path, 5), logs.append)
    assert len(again.trials) == 5  # nothing left to run


def test_interrupted_trials_are_failed_then_resumed(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    p = prepare(write_spec())
    run_search(p.plan, p.dataset, _settings(tmp_path, 2), lambda s: None)
    study = optuna.load_study(study_name="demo", storage=f"sqlite:///{tmp_path / 'study.db'}")
    study.ask()  # a trial left RUNNING, as a killed run leaves it
    logs: list[str] = []
    # exclusive: the local study under generate's lock, where no other run can be running
    res = run_search(p.plan, p.dataset, _settings(tmp_path, 4, exclusive=True), logs.append)
    assert any("interrupted run marked failed; re-running them" in m for m in logs)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states.count(optuna.trial.TrialState.FAIL) == 1  # in the study, not in the result
    assert "FAIL" not in [t.state for t in res.trials]
    # the failed trial does not count: 4 finished trials, its parameters queued again
    assert sum(t.state == "COMPLETE" for t in res.trials) == 4


def test_study_of_another_spec_is_refused_unless_forced(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    spec = write_spec()
    p = prepare(spec)
    run_search(p.plan, p.dataset, _settings(tmp_path, 2), lambda s: None)
    spec.write_text(spec.read_text().replace("flash_kb: 16", "flash_kb: 12"))
    p2 = prepare(spec)
    with pytest.raises(SearchError, match=r"made for a different spec \(differs in: budgets\)"):
        run_search(p2.plan, p2.dataset, _settings(tmp_path, 2), lambda s: None)
    res = run_search(p2.plan, p2.dataset, _settings(tmp_path, 2, force=True), lambda s: None)
    assert len(res.trials) == 2


def test_corrupt_sqlite_file_is_one_clear_error(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    (tmp_path / "study.db").write_bytes(b"this is not a database" * 100)
    p = prepare(write_spec())
    with pytest.raises(SearchError, match=r"study storage .*study.db.*delete"):
        run_search(p.plan, p.dataset, _settings(tmp_path, 2), lambda s: None)


def test_unreachable_database_is_one_clear_line(write_spec: Callable[..., Path]) -> None:
    from click.testing import CliRunner

    from mcuforge.cli import cli

    url = "postgresql://nobody:secret@127.0.0.1:9/none"
    res = CliRunner().invoke(cli, ["search", str(write_spec()), "--storage", url, "--trials", "1"])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "cannot open the study storage postgresql://nobody:***@" in lines[0]
    assert "secret" not in res.output and "Traceback" not in res.output


def test_multi_objective_gives_a_feasible_pareto_front(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    spec = write_spec()
    spec.write_text(
        spec.read_text().replace(
            "search: {trials: 4, seed: 3, rescore_top: 0}",
            "search: {trials: 8, seed: 3, objectives: [score, flash]}",
        )
    )
    p = prepare(spec)
    res = run_search(p.plan, p.dataset, _settings(tmp_path, 8), lambda s: None)
    study = optuna.load_study(study_name="demo", storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert len(study.directions) == 2
    assert isinstance(study.sampler, optuna.samplers.NSGAIISampler)
    assert res.pareto and set(res.pareto) <= set(res.ranked)
    by = {t.number: t for t in res.trials}
    # no Pareto point is dominated by a feasible trial in (score up, flash down)
    for n in res.pareto:
        a = by[n]
        for m in res.ranked:
            b = by[m]
            assert not (
                b.score > a.score
                and b.cost["flash_bytes"]["value"]  # type: ignore[index, operator]
                < a.cost["flash_bytes"]["value"]
            )  # type: ignore[index]


def test_random_and_grid_samplers(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    spec = write_spec()
    base = spec.read_text()
    spec.write_text(
        base.replace(
            "search: {trials: 4, seed: 3, rescore_top: 0}",
            "search: {trials: 3, seed: 3, strategy: random}",
        )
    )
    p = prepare(spec)
    assert len(run_search(p.plan, p.dataset, _settings(tmp_path, 3), print).trials) == 3
    spec.write_text(
        base.replace(
            "search: {trials: 4, seed: 3, rescore_top: 0}",
            "search: {trials: 3, seed: 3, strategy: grid}",
        )
        + "recipe: {name: imu-stats-tree, overrides: {space: {max_depth: "
        "{choice: [2, 3]}, min_samples_leaf: {choice: [1]}}, "
        "fixed: {stats.features: [mean, std]}}}\n"
    )
    p = prepare(spec)
    d = tmp_path / "grid"
    d.mkdir()
    res = run_search(p.plan, p.dataset, _settings(d, 2), lambda s: None)
    assert sorted(t.params["imu-stats-tree/max_depth"] for t in res.trials) == [2, 3]
    # more trials than grid points: the grid's own stop is named (it read "time budget")
    p = prepare(
        _spec_with(write_spec, "{trials: 5, seed: 3, strategy: grid, rescore_top: 0}", TWO_POINTS)
    )
    d3 = tmp_path / "grid3"
    d3.mkdir()
    res = run_search(p.plan, p.dataset, _settings(d3, 5), lambda s: None)
    done = [t for t in res.trials if t.state == "COMPLETE"]
    assert len(done) == 2 and res.stopped_by == "every grid point tried", res.stopped_by
    spec.write_text(
        base.replace(
            "search: {trials: 4, seed: 3, rescore_top: 0}", "search: {trials: 3, strategy: grid}"
        )
    )
    p = prepare(spec)
    d2 = tmp_path / "grid2"
    d2.mkdir()
    with pytest.raises(SearchError, match="grid search needs one recipe"):
        run_search(p.plan, p.dataset, _settings(d2, 2), lambda s: None)


def test_infeasible_search_names_the_smallest_budget(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    spec = write_spec()
    # under the features alone (validate would say so), over features and a model
    spec.write_text(spec.read_text().replace("latency_ms: 5", "latency_ms: 0.05"))
    p = prepare(spec)
    with pytest.raises(BudgetError, match=r"latency_ms >= \d"):
        run_search(p.plan, p.dataset, _settings(tmp_path, 3), lambda s: None)


@pytest.mark.slow
def test_local_parallel_workers_record_every_trial_once(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    spec = write_spec()
    p = prepare(spec)
    lines: list[str] = []
    res = run_search(
        p.plan, p.dataset, _settings(tmp_path, 6, jobs=2, verbose=True), lines.append, p.loaded.path
    )
    numbers = [t.number for t in res.trials]
    # the parent shows the workers' trials as they finish (it showed none)
    shown = {int(m.group(1)) for line in lines if (m := re.match(r"trial #(\d+):", line))}
    assert set(numbers) <= shown
    study = optuna.load_study(study_name="demo", storage=res.storage)
    never_run = [t.number for t in study.trials if not_run(t)]  # duplicates, surplus
    finished = [t.number for t in study.trials if t.state.is_finished()]  # not queued ones
    assert sorted(numbers + never_run) == finished  # each finished trial recorded once
    assert counted(study) == 6  # --trials is the total, exactly (two workers overshot by one)
    # the parent says what ended its workers' trials (it said "the workers finished")
    assert any(re.match(r"search: stopped by 6 trials after", line) for line in lines), lines


def _pop_all(url: str, start: float, out: Any) -> None:
    """A worker process: take queued trials off the study until none is left."""
    study = optuna.load_study(study_name="queue", storage=open_storage(url))
    while time.time() < start:  # all workers start taking at the same moment
        pass
    taken = []
    while (trial_id := study._pop_waiting_trial_id()) is not None:
        taken.append(trial_id)
    out.put(taken)


@pytest.mark.slow
def test_workers_on_a_sqlite_study_never_take_the_same_queued_trial(tmp_path: Path) -> None:
    """Three processes empty a queue of 150 trials: each trial is taken once. SQLite has
    no row locks, and before each transaction took the write lock as it began, the
    read (WAITING) and the write (RUNNING) of two workers interleaved: both ran the
    trial, and the second to finish crashed recording it (about 1 in 20 taken twice)."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="queue", storage=open_storage(url))
    for i in range(150):
        study.enqueue_trial({"x": i}, skip_if_exists=False)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start = time.time() + 4.0
    procs = [ctx.Process(target=_pop_all, args=(url, start, out)) for _ in range(3)]
    for proc in procs:
        proc.start()
    taken = [t for _ in procs for t in out.get(timeout=300)]
    for proc in procs:
        proc.join()
    assert sorted(taken) == sorted(t._trial_id for t in study.trials)
    assert all(t.state == optuna.trial.TrialState.RUNNING for t in study.trials)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.parametrize("constraints", [True, False])
@pytest.mark.parametrize("state", [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE])
def test_a_trial_another_worker_finished_meanwhile_is_recognised(
    tmp_path: Path, constraints: bool, state: optuna.trial.TrialState
) -> None:
    """A trial that another worker finished while this one ran it (failed it when its
    heartbeat check took it for a dead worker's; or ran it too) cannot be recorded when
    it ends: the error Optuna raises then must be one a worker skips (Optuna 4.9 raised
    a new one from the sampler's constraint bookkeeping, and a worker of a parallel
    search died on it; for a failed trial an assertion fails while handling it)."""
    sampler = optuna.samplers.TPESampler(
        seed=1, constraints_func=(lambda t: [0.0]) if constraints else None
    )
    study = optuna.create_study(
        storage=open_storage(f"sqlite:///{tmp_path / 'study.db'}"), sampler=sampler
    )

    def objective(trial: optuna.Trial) -> float:
        trial.suggest_float("x", 0.0, 1.0)
        values = [0.5] if state == optuna.trial.TrialState.COMPLETE else None
        study._storage.set_trial_state_values(trial._trial_id, state, values)
        return 1.0

    with pytest.raises(Exception) as caught:
        optimize_quietly(study, objective, n_trials=1)
    assert lost_trial(caught.value), repr(caught.value)
    assert not lost_trial(ValueError("another error"))


def test_a_search_goes_on_past_a_trial_another_worker_finished(tmp_path: Path) -> None:
    """A shared study (two `mcuforge search` runs, or --jobs): the process whose trial
    another worker failed meanwhile ran on to the next trial, not into a traceback."""
    study = optuna.create_study(storage=open_storage(f"sqlite:///{tmp_path / 'study.db'}"))
    ran: list[int] = []

    def objective(trial: optuna.Trial) -> float:
        ran.append(trial.number)
        if len(ran) == 1:  # the other worker took it for a dead worker's and failed it
            study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        return trial.suggest_float("x", 0.0, 1.0)

    optimize_on(study, objective, None, lambda: False, n_trials=1)
    assert ran == [0, 1]
    assert [t.state.name for t in study.trials] == ["FAIL", "COMPLETE"]


def test_a_trial_runs_only_while_the_earlier_ones_leave_room(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The admission of a trial while other workers' trials run: the finished trials
    that count and the running ones that started before it must stay below the total;
    it waits for those, runs if one of them does not count, and is not run once the
    finished ones reach the total."""
    study = optuna.create_study(direction="maximize")
    study.tell(study.ask(), 0.1)  # one finished trial
    a, b, c = study.ask(), study.ask(), study.ask()
    assert admitted(study, c.number, None, 0.0)  # no total
    assert admitted(study, a.number, 3, 0.0)  # 1 finished, none started before a
    assert admitted(study, b.number, 3, 0.0)  # 1 finished + a

    def later(*steps: Callable[[], object]) -> threading.Thread:
        def run() -> None:
            time.sleep(0.3)
            for step in steps:
                step()

        t = threading.Thread(target=run)
        t.start()
        return t

    # c: 1 finished + a + b reach 3, so it waits; b turns out a duplicate (not counted)
    t = later(
        lambda: b.set_user_attr("duplicate_of", 0),
        lambda: study.tell(b, state=optuna.trial.TrialState.PRUNED),
    )
    assert admitted(study, c.number, 3, 60.0)
    t.join()
    # d: 1 finished + a + c reach 3: it waits; both finish and count: d is not run
    d = study.ask()
    t = later(lambda: study.tell(a, 0.2), lambda: study.tell(c, 0.3))
    assert not admitted(study, d.number, 3, 60.0)
    t.join()
    d.set_user_attr("surplus", True)
    study.tell(d, state=optuna.trial.TrialState.PRUNED)
    assert counted(study) == 3
    # f: 3 finished + e reach 4; an earlier trial running past the wait (a dead
    # worker's) does not hold it back for ever
    monkeypatch.setattr("mcuforge.search._control.ADMIT_GRACE_S", 1.0)  # not 30 s
    e, f = study.ask(), study.ask()
    assert admitted(study, e.number, 4, 0.0) and admitted(study, f.number, 5, 0.0)
    assert admitted(study, f.number, 4, 0.0)


def test_of_two_identical_trials_running_at_once_one_runs() -> None:
    """Two workers each took a copy of one recipe default (two `mcuforge search` runs
    on one shared study each queue the defaults): each saw the other running with the
    same parameters and called itself the duplicate, and that default never ran."""
    from mcuforge.search._control import duplicate_of

    study = optuna.create_study(direction="maximize")
    for _ in range(2):
        study.enqueue_trial({"x": 1.0})
    first, second = study.ask(), study.ask()  # both running before either checks
    for t in (first, second):
        t.suggest_float("x", 0.0, 2.0)
    assert first.params == second.params
    # the later one checks first: the earlier one is still the original
    assert duplicate_of(study, second) == first.number
    assert duplicate_of(study, first) is None
    # one that passed its check (the earlier one had no parameters yet) is the
    # original for a trial that started before it
    third, fourth = study.ask(), study.ask()
    fourth.suggest_float("x", 1.5, 1.5)
    assert duplicate_of(study, fourth) is None
    third.suggest_float("x", 1.5, 1.5)
    assert duplicate_of(study, third) == fourth.number
    # a finished trial is the original for any later one
    study.tell(first, 0.5)
    fifth = study.ask()
    fifth.suggest_float("x", 1.0, 1.0)
    assert duplicate_of(study, fifth) == first.number


# ---------------------------------------------------------------- PostgreSQL


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def postgres() -> Iterator[str]:
    """A throw-away PostgreSQL server on loopback (installed with apt when root)."""
    pg = _pg_bin()
    if pg is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install "
            "-y -qq --no-install-recommends postgresql >/dev/null",
            shell=True,
            check=True,
        )
        pg = _pg_bin()
    if pg is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed and cannot be (not root)")
        pytest.skip("PostgreSQL is not installed (make test installs it as root)")
    pytest.importorskip("psycopg")
    # pytest's tmp_path is private to root; the server runs as `postgres` when we are root
    # (it refuses to run as root), so its folder lives in a world-traversable place
    base = Path(tempfile.mkdtemp(prefix="mcuforge-pg-"))
    os.chmod(base, 0o755)
    data = base / "pgdata"
    data.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
        shutil.chown(base, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [*run_as, str(pg / "initdb"), "-D", str(data), "-U", "mcuforge", "-A", "trust"],
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [
            *run_as,
            str(pg / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "-k",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = time.monotonic() + 120  # a first start on a busy machine can be slow
        while (
            subprocess.run(
                [str(pg / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
            ).returncode
            != 0
        ):
            assert server.poll() is None, f"the PostgreSQL server exited ({server.returncode})"
            assert time.monotonic() < ready, "the PostgreSQL server was not ready in 120 s"
            time.sleep(0.2)
        subprocess.run(
            [str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "mcuforge", "studies"],
            check=True,
        )
        yield f"postgresql://mcuforge@127.0.0.1:{port}/studies"
    finally:
        # a fast shutdown: SIGTERM waits for every client to disconnect
        subprocess.run(
            [*run_as, str(pg / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w"],
            capture_output=True,
        )
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_two_workers_share_one_postgres_study(
    postgres: str, write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    spec = write_spec()
    exe = ROOT / ".venv" / "bin" / "mcuforge"
    cmd = [
        str(exe) if exe.exists() else "mcuforge",
        "search",
        str(spec),
        "--storage",
        postgres,
        "--trials",
        "8",
        "-q",
    ]
    workers = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [w.communicate(timeout=600) for w in workers]
    assert all(w.returncode == 0 for w in workers), outs
    study = optuna.load_study(study_name="demo", storage=postgres)
    numbers = [t.number for t in study.trials]
    assert sorted(numbers) == list(range(len(numbers)))  # every trial recorded once
    assert counted(study) == 8  # both count to the total, exactly (pruned over a budget counts)
    from mcuforge.search._control import param_key

    ran = [t for t in study.trials if t.state.is_finished() and not not_run(t)]
    assert len({param_key(t.params) for t in ran}) == len(ran)  # no configuration twice
    # each run queued the recipe defaults: a copy skipped as a duplicate names a trial
    # that ran (two copies running at once each called itself the duplicate)
    originals = [t.user_attrs.get("duplicate_of") for t in study.trials if not_run(t)]
    assert set(originals) - {None} <= {t.number for t in ran}
    from click.testing import CliRunner

    from mcuforge.cli import cli

    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        [
            "generate",
            str(spec),
            "--storage",
            postgres,
            "--from-study",
            "--no-measure",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    import json

    report = json.loads((out / "report.json").read_text())
    p = prepare(spec)
    from mcuforge.search import collect

    expected = collect(study, p.plan, _settings(tmp_path, 8))
    assert report["search"]["chosen_trial"] == expected.best_trial
    finished = [t for t in study.trials if t.state.is_finished()]
    assert report["search"]["trials"] == sum(not not_run(t) for t in finished) == 8


# --- how the search spends its time (issue 14 §2) -------------------------------------


def _spec_with(write_spec: Callable[..., Path], search: str, recipe: str = "") -> Path:
    spec = write_spec()
    text = spec.read_text().replace(
        "search: {trials: 4, seed: 3, rescore_top: 0}", f"search: {search}"
    )
    spec.write_text(text + (f"recipe: {recipe}\n" if recipe else ""))
    return spec


def test_warm_start_runs_every_recipe_default_first_cheapest_first(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    from mcuforge.models import MODELS
    from mcuforge.search._space import default_params

    p = prepare(write_spec())
    n = len(p.plan.recipes)
    res = run_search(p.plan, p.dataset, _settings(tmp_path, n), lambda s: None)
    first = res.trials[:n]
    assert sorted(t.recipe for t in first) == sorted(r.ref for r in p.plan.recipes)
    by_ref = {r.ref: r for r in p.plan.recipes}
    for t in first:  # each is exactly the recipe's default configuration
        assert t.params == default_params(by_ref[t.recipe], n > 1)
    costs = [MODELS.get(by_ref[t.recipe].pipeline.model).training_cost for t in first]
    assert costs == sorted(costs)  # networks after the classic models


def test_a_default_not_run_as_surplus_is_queued_again(write_spec: Callable[..., Path]) -> None:
    """A worker took a recipe default off the queue and did not run it (the study had
    reached its total): a later run with a larger total queues it again."""
    from mcuforge.search._control import warm_start

    p = prepare(write_spec())
    recipe = p.plan.recipes[0]
    study = optuna.create_study(direction="maximize")
    assert warm_start(study, [recipe], [recipe.ref]) == 1
    assert warm_start(study, [recipe], [recipe.ref]) == 0  # queued already
    taken = study.ask()  # a worker takes the queued default ...
    taken.set_user_attr("surplus", True)  # ... and does not run it
    study.tell(taken, state=optuna.trial.TrialState.PRUNED)
    assert warm_start(study, [recipe], [recipe.ref]) == 1  # queued again


def test_a_trial_that_could_start_only_after_the_time_budget_is_not_run(
    write_spec: Callable[..., Path],
) -> None:
    """A worker's trial that waited for other workers' trials past the end of the time
    budget ran on the 1 s a trial always gets, and counted: it is now not run, not
    counted, and its recipe default is queued again by a later run."""
    from mcuforge.search._control import warm_start
    from mcuforge.search._objective import limit_for, make_objective

    p = prepare(_spec_with(write_spec, "{seed: 3}", "imu-stats-tree"))
    settings = SearchSettings(trials=None, storage="", time_budget_s=60.0)
    end = time.time() - 0.5  # the budget ended while the trial waited
    study = optuna.create_study(direction="maximize")
    assert warm_start(study, p.plan.recipes, [r.ref for r in p.plan.recipes]) == 1
    objective = make_objective(p.plan, p.dataset, limit_for(settings, end), None, 8, end)
    study.optimize(objective, n_trials=1)
    (trial,) = study.trials
    assert not_run(trial) and counted(study) == 0
    assert trial.user_attrs["reason"].startswith("the time budget ended before it could start")
    assert warm_start(study, p.plan.recipes, [r.ref for r in p.plan.recipes]) == 1
    # with time left, the same trial runs and counts
    objective = make_objective(p.plan, p.dataset, limit_for(settings, None), None, 8, None)
    study.optimize(objective, n_trials=1)
    assert counted(study) == 1


def test_no_trial_starts_in_or_runs_into_the_race_time(write_spec: Callable[..., Path]) -> None:
    """The last trials of a time-budgeted search may not use the time kept for the race
    after it: one starting there is not run (and queued again later), one starting just
    before gets a limit that ends where the race's time begins (it ran to the end of the
    budget, and the race had none left)."""
    from mcuforge.search._control import warm_start
    from mcuforge.search._objective import limit_for, make_objective

    p = prepare(_spec_with(write_spec, "{seed: 3}", "imu-stats-tree"))
    settings = SearchSettings(trials=None, storage="", time_budget_s=600.0)
    end = time.time() + 30.0
    study = optuna.create_study(direction="maximize")
    refs = [r.ref for r in p.plan.recipes]
    # the recipe's default configuration (a sampled one may be an empty subset of
    # statistics, pruned before any time limit is set)
    assert warm_start(study, p.plan.recipes, refs) == 1
    objective = make_objective(
        p.plan, p.dataset, limit_for(settings, end), None, 8, end, lambda s: 40.0
    )
    study.optimize(objective, n_trials=1)
    (trial,) = study.trials
    assert not_run(trial) and counted(study) == 0
    assert trial.user_attrs["reason"].startswith("the time left is the re-scoring's")
    limits: list[float | None] = []
    import mcuforge.search._objective as objective_module

    real = objective_module.Deadline

    def spy(limit: float | None) -> Any:
        limits.append(limit)
        return real(limit)

    assert warm_start(study, p.plan.recipes, refs) == 1  # queued again: it was not run
    objective = make_objective(
        p.plan, p.dataset, limit_for(settings, end), None, 8, end, lambda s: 20.0
    )
    objective_module.Deadline = spy  # type: ignore[assignment,misc]
    try:
        study.optimize(objective, n_trials=1)
    finally:
        objective_module.Deadline = real  # type: ignore[misc]
    assert limits and limits[0] is not None and limits[0] <= 10.0 + 0.5, limits


def test_a_retried_grid_trial_keeps_its_grid_point(tmp_path: Path) -> None:
    """An interrupted grid trial queued again took another, unvisited grid point, which
    then ran the old parameters and was never evaluated itself."""
    from mcuforge.search._storage import retry_trial

    space = {"x": [0, 1, 2, 3]}
    study = optuna.create_study(
        storage=f"sqlite:///{tmp_path / 'g.db'}", sampler=optuna.samplers.GridSampler(space, seed=0)
    )
    study.optimize(lambda t: t.suggest_categorical("x", space["x"]), n_trials=1)
    cut = study.ask()  # the second point, interrupted
    cut.suggest_categorical("x", space["x"])
    study.tell(cut, state=optuna.trial.TrialState.FAIL)
    retry_trial(study, study.trials[-1])
    study.optimize(lambda t: t.suggest_categorical("x", space["x"]))
    done = [t.params["x"] for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted(done) == [0, 1, 2, 3], done


def test_ctrl_c_requeues_every_time_a_dying_worker_at_most_twice() -> None:
    """A third Ctrl-C on the same parameters failed them for good, and the failed trial
    counted towards --trials (the user stopped it, not the trial); parameters whose
    worker dies are queued again twice, then fail with the reason, and count."""
    from mcuforge.search._resume import finished
    from mcuforge.search._storage import MAX_RETRIES, retry_trial, trial_reason

    def attempt(study: optuna.Study, interrupted: bool) -> bool:
        """Run the queued parameters (or new ones), stop them; True if queued again."""
        trial = study.ask()
        trial.suggest_int("x", 0, 1000)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        before = len(study.trials)
        retry_trial(study, study.trials[-1], interrupted=interrupted)
        return len(study.trials) > before

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    assert all(attempt(study, interrupted=True) for _ in range(5))
    assert len({t.params["x"] for t in study.trials if t.params}) == 1  # the same parameters
    assert finished(study) == 0  # none counts: each was queued again
    assert [attempt(study, interrupted=False) for _ in range(MAX_RETRIES + 1)] == [
        *[True] * MAX_RETRIES,
        False,
    ]
    assert finished(study) == 1  # the last death counts, and says why
    last = study.trials[-1]
    earlier = ", ".join(f"#{t.number}" for t in study.trials[:-1])
    assert trial_reason(last) == (
        "its worker died while running it (killed, or out of memory?); "
        f"{MAX_RETRIES + 1} deaths at these parameters (earlier attempts: trials {earlier}); "
        f"not queued again (at most {MAX_RETRIES} retries after a death)"
    )
    # the one before it died too, and was queued again: its line says so
    assert trial_reason(study.trials[-2]).endswith("; queued again")
    assert len({t.params["x"] for t in study.trials if t.params}) == 1


def test_a_local_search_continues_the_last_outputs_study(tmp_path: Path) -> None:
    """`mcuforge search` started an empty study beside an output whose study.db held the
    earlier trials (generate continues it; the next generate then overwrote it)."""
    from mcuforge.pipeline._search import continue_local_study
    from mcuforge.search._storage import default_storage, storage_url

    out = tmp_path / "out"
    out.mkdir()
    (out / "study.db").write_bytes(b"earlier trials")
    shared = SearchSettings(trials=1, storage="postgresql://db/x")
    assert not continue_local_study(out, shared) and not default_storage(out).exists()
    local = SearchSettings(trials=1, storage=storage_url(None, out))
    assert continue_local_study(out, local)
    assert default_storage(out).read_bytes() == b"earlier trials"
    (out / "study.db").write_bytes(b"older")  # a working study is never replaced
    assert continue_local_study(out, local)
    assert default_storage(out).read_bytes() == b"earlier trials"


def test_resumed_seeds_of_workers_differ() -> None:
    """Worker 0 joining after one trial drew worker 1's stream (seed + trials)."""
    from mcuforge.search._study import resumed_seed

    base = 8
    assert resumed_seed(base + 0, 1) != base + 1
    seeds = {resumed_seed(base + i, n) for i in range(4) for n in range(6)}
    assert len(seeds) == 24 and resumed_seed(base, 3) == resumed_seed(base, 3)


def test_time_budget_ends_the_search(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    p = prepare(_spec_with(write_spec, "{seed: 3}", "imu-stats-tree"))
    res = run_search(
        p.plan, p.dataset, _settings(tmp_path, None, time_budget_s=2.0), lambda s: None
    )
    assert res.stopped_by == "time budget" and res.trials


def test_a_trial_past_its_limit_is_stopped_with_the_reason(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    p = prepare(_spec_with(write_spec, "{trials: 2, seed: 3}", "imu-stats-tree"))
    with pytest.raises(BudgetError, match="no trial finished"):
        run_search(p.plan, p.dataset, _settings(tmp_path, 2, trial_timeout_s=1e-4), print)
    study = optuna.load_study(study_name="demo", storage=f"sqlite:///{tmp_path / 'study.db'}")
    pruned = study.get_trials(states=(optuna.trial.TrialState.PRUNED,))
    assert len(pruned) == 2 and all(t.user_attrs["reason"] for t in pruned)
    assert any("time limit" in t.user_attrs["reason"] for t in pruned)


def test_a_small_space_is_never_run_twice(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    p = prepare(_spec_with(write_spec, "{trials: 6, seed: 3}", TWO_POINTS))
    res = run_search(p.plan, p.dataset, _settings(tmp_path, 6), lambda s: None)
    assert sorted(t.params["imu-stats-tree/max_depth"] for t in res.trials) == [2, 3]
    assert res.stopped_by.startswith("search space exhausted")


def test_resumed_study_samples_new_parameters(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    from mcuforge.search._control import param_key

    p = prepare(_spec_with(write_spec, "{trials: 4, seed: 3}", "imu-stats-tree"))
    run_search(p.plan, p.dataset, _settings(tmp_path, 3), lambda s: None)
    res = run_search(p.plan, p.dataset, _settings(tmp_path, 7), lambda s: None)
    keys = [param_key(t.params) for t in res.trials]
    assert len(res.trials) == 7 and len(set(keys)) == 7


def test_deadline_interrupts_python_but_not_a_critical_section() -> None:
    from mcuforge._deadline import Deadline, TrialTimeout, critical

    with pytest.raises(TrialTimeout), Deadline(0.05):
        while True:
            pass
    reached = False
    with pytest.raises(TrialTimeout), Deadline(0.05), critical():
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            pass
        reached = True  # the expiry waited for the section to end
    assert reached


def test_a_deadline_that_expires_as_it_starts_leaves_nothing_behind() -> None:
    """A limit so small that SIGALRM arrives inside ``__enter__``: ``__exit__`` never
    runs then, and the expired deadline stayed the current one (every later ``check``,
    in any trial, raised) with its signal handler installed."""
    import signal

    from mcuforge import _deadline
    from mcuforge._deadline import Deadline, TrialTimeout

    before = signal.getsignal(signal.SIGALRM)
    for _ in range(200):
        try:
            with Deadline(1e-6):
                pass
        except TrialTimeout:
            pass
        assert _deadline._current is None
        assert signal.getsignal(signal.SIGALRM) is before
    _deadline.check()  # no deadline running: nothing to raise


def test_durations_in_the_spec_and_on_the_command_line(write_spec: Callable[..., Path]) -> None:
    from click.testing import CliRunner

    from mcuforge.cli import cli
    from mcuforge.spec import load_spec

    spec = _spec_with(write_spec, "{time_budget: 1h30m, trial_timeout: 90s}")
    s = load_spec(spec).spec.search
    assert (s.time_budget, s.trial_timeout, s.budget_s, s.trial_timeout_s) == (
        5400.0,
        90.0,
        5400.0,
        90.0,
    )
    bad = _spec_with(write_spec, "{time_budget: 5 minutes}")
    res = CliRunner().invoke(cli, ["validate", str(bad)])
    assert res.exit_code == 2
    assert f"{bad}:14:23: search.time_budget:" in res.output
    assert "not a duration; write e.g. 5m" in res.output
    res = CliRunner().invoke(cli, ["generate", str(spec), "--time-budget", "soon"])
    assert res.exit_code == 2 and "'soon' is not a duration" in res.output


def test_a_default_over_the_flash_budget_is_tried_again_scaled_down(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    """imu-stats-forest's default (50 trees) on a flash budget it overshoots: the next
    trial is the same configuration with n_estimators scaled down by the overshoot."""
    from mcuforge.search._control import SHRINK_MARGIN

    spec = _spec_with(write_spec, "{trials: 2, seed: 3}", "imu-stats-forest")
    spec.write_text(spec.read_text().replace("flash_kb: 16", "flash_kb: 4.5"))
    p = prepare(spec)
    res = run_search(p.plan, p.dataset, _settings(tmp_path, 2), lambda s: None)
    first, second = res.trials[:2]
    key = "imu-stats-forest/n_estimators"
    assert first.params[key] == 50 and not first.feasible
    over = first.cost["flash_bytes"]["value"] / (4.5 * 1024)
    assert over > 1.0
    assert {k: v for k, v in second.params.items() if k != key} == {
        k: v for k, v in first.params.items() if k != key
    }
    assert second.params[key] < 50 and second.params[key] <= 50 * SHRINK_MARGIN / over
    assert second.feasible


def test_from_study_without_trials_says_so(write_spec: Callable[..., Path], tmp_path: Path) -> None:
    """`generate --from-study` on a storage without that study ended with exit 3 and
    "raise --trials", the opposite of what --from-study means."""
    p = prepare(write_spec())
    with pytest.raises(SearchError, match=r"--from-study: the study 'demo' in .* has no finished"):
        run_search(p.plan, p.dataset, _settings(tmp_path, 0), lambda s: None)
    # with no study file at all: said at once, and no empty study file left behind
    spec = write_spec()
    code = CliRunner().invoke(
        cli, ["generate", str(spec), "-o", str(tmp_path / "o"), "--from-study"]
    )
    assert code.exit_code == 2, code.output
    assert "--from-study: there is no study for" in code.output
    assert not (tmp_path / ".o.study.db").exists() and not (tmp_path / "o").exists()


def test_a_trial_failing_with_a_known_error_is_reported_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Optuna logs a failed trial as a warning with the whole traceback; for an
    McuforgeError (the search reports the trial and its reason itself) that read as a
    crash in the middle of the progress. Other errors, possibly bugs, keep it."""
    from mcuforge.errors import McuforgeError

    def fail(kind: type[Exception]) -> Callable[[optuna.Trial], float]:
        def objective(trial: optuna.Trial) -> float:
            trial.suggest_int("x", 0, 9)
            raise kind("the int8 C emitter cannot generate this model")

        return objective

    study = optuna.create_study()
    with caplog.at_level("WARNING", logger="optuna"):
        optimize_quietly(study, fail(McuforgeError), n_trials=2, catch=(McuforgeError,))
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL] * 2
    assert not [r for r in caplog.records if "failed" in r.getMessage()]
    with caplog.at_level("WARNING", logger="optuna"):
        optimize_quietly(study, fail(ValueError), n_trials=1, catch=(ValueError,))
    shown = [r for r in caplog.records if r.getMessage().startswith("Trial 2 failed")]
    assert len(shown) == 2 and shown[0].exc_info is not None


def test_a_failed_trial_keeps_its_reason(
    write_spec: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Optuna records no reason for a failed trial: the objective does, so that -v and
    trials.csv say why (they showed '-')."""
    from mcuforge.errors import McuforgeError
    from mcuforge.search import _objective
    from mcuforge.search._progress import trial_line

    def broken(*a: object, **k: object) -> object:
        raise McuforgeError("the int8 C emitter cannot generate this model:\n  MEAN: float32")

    monkeypatch.setattr(_objective, "cross_validate", broken)
    p = prepare(_spec_with(write_spec, "{seed: 3}", "imu-stats-tree"))
    objective = _objective.make_objective(p.plan, p.dataset, lambda: None)
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=1, catch=_objective.TRIAL_ERRORS)
    (trial,) = study.trials
    assert trial.state == optuna.trial.TrialState.FAIL
    reason = "McuforgeError: the int8 C emitter cannot generate this model: MEAN: float32"
    assert trial.user_attrs["reason"] == reason
    assert trial_line(trial, "accuracy").endswith(f"fail: {reason}")


def test_an_empty_subset_says_which_parameter() -> None:
    """The reason read "empty subset", in -v and trials.csv, naming no parameter."""
    from mcuforge.catalog._recipes import SearchParam
    from mcuforge.search._space import _suggest

    param = SearchParam.model_validate({"subset": ["mean", "std"]})
    none = optuna.trial.FixedTrial(
        {"r@1/stats.features.mean": False, "r@1/stats.features.std": False}
    )
    with pytest.raises(optuna.TrialPruned, match=r"^empty subset: none of stats\.features chosen"):
        _suggest(none, "r@1/stats.features", param)
    one = optuna.trial.FixedTrial(
        {"r@1/stats.features.mean": False, "r@1/stats.features.std": True}
    )
    assert _suggest(one, "r@1/stats.features", param) == ["std"]
