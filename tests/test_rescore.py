"""The race at the end of the search: the best configurations cross-validated again on
other fold draws, the worse half dropped each round, the choice on the mean."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest

from mcuforge.pipeline import prepare
from mcuforge.search import SearchSettings, _rescore, run_search
from mcuforge.search._collect import collect
from mcuforge.search._control import StopRule
from mcuforge.search._evaluate import FeatureCache, Validated, cross_validate
from mcuforge.search._objective import OUTPUTS_DIGEST
from mcuforge.search._rescore import (
    ATTR,
    FIELD,
    Standing,
    entrants,
    fit_field,
    race,
    race_reserve_s,
    race_time_s,
    round_seed,
    run_race,
    stored_field,
    stored_rounds,
)
from mcuforge.search._space import config_from_params


def test_each_round_drops_the_worse_half_by_the_mean_of_every_draw() -> None:
    entered = [1, 2, 3, 4, 5]  # best first by the search's own score
    first = {1: 1.0, 2: 1.0, 3: 0.9, 4: 0.9, 5: 0.8}
    stored = {
        1: [0.6, 0.7],  # lucky folds in the search: mean 0.8 after round 1
        2: [0.9, 0.8],
        3: [0.9, 0.9],
        4: [0.8],
        5: [0.9],
    }
    r = race(entered, first, stored, rounds=4, maximize=True)
    # round 1 means: 1 0.80, 2 0.95, 3 0.90, 4 0.85, 5 0.85 -> keep 2, 3, 4 (4 before 5:
    # the same mean, the better search rank); round 2 needs 4's second score: it stops
    assert r.complete_rounds == 1
    assert r.order == [2, 3, 4, 5, 1]
    assert r.means[2] == pytest.approx(0.95) and r.rounds[2] == [0.9]
    stored[4].append(0.95)
    r = race(entered, first, stored, rounds=4, maximize=True)
    # round 2 means: 2 0.90, 3 0.90, 4 0.883 -> keep 2, 3; round 3 has no scores
    assert r.complete_rounds == 2
    assert r.order == [2, 3, 4, 5, 1]
    assert r.means[3] == pytest.approx(0.9)
    assert r.rounds[5] == [0.9]  # dropped in round 1: its mean stays that of one round


def test_a_lower_is_better_metric_races_the_other_way() -> None:
    r = race([7, 8], {7: 1.0, 8: 1.1}, {7: [2.0], 8: [1.2]}, rounds=3, maximize=False)
    assert r.order == [8, 7] and r.complete_rounds == 1


def test_no_round_leaves_the_search_order() -> None:
    r = race([3, 1, 2], {3: 0.9, 1: 0.8, 2: 0.7}, {3: [0.5]}, rounds=2, maximize=True)
    assert r.order == [3, 1, 2] and r.complete_rounds == 0 and r.means == {}


def test_entrants_are_the_best_distinct_and_the_best_of_each_other_recipe() -> None:
    ranked = [10, 11, 12, 13, 14, 15]
    recipe = {10: "a", 11: "a", 12: "a", 13: "b", 14: "c", 15: "b"}
    model = {10: "p", 11: "p", 12: "q", 13: "r", 14: "s", 15: "t"}  # 11 is 10's model
    assert entrants(ranked, recipe, model, top=2) == [10, 12, 13, 14]
    assert entrants(ranked, recipe, model, top=0) == []


def test_trials_that_predicted_alike_enter_the_race_once(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    """Each trial keeps a digest of its out-of-fold outputs; trials with the same
    digest are one model, and the first of them in the ranking enters (a trial without
    a digest, from an older study, is its parameters)."""
    p = prepare(write_spec())
    settings = SearchSettings(trials=10, storage=f"sqlite:///{tmp_path / 'study.db'}")
    run_search(p.plan, p.dataset, settings, lambda s: None)
    study = optuna.load_study(study_name="demo", storage=settings.storage)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert done and all(len(t.user_attrs[OUTPUTS_DIGEST]) == 16 for t in done)
    # the digest is that of the predictions the search's folds made
    t = done[0]
    config = config_from_params(t.params, p.plan.recipes, t.number)
    v = cross_validate(config, FeatureCache(p.dataset), p.plan)
    assert v.fingerprint() == t.user_attrs[OUTPUTS_DIGEST]
    assert v.outputs.shape[0] == p.dataset.train.y.shape[0]
    assert v.score == pytest.approx(t.values[0])
    standing = Standing.of(study, maximize=True)
    first = standing.ranked[0]
    second = next(n for n in standing.ranked if standing.model_of[n] != standing.model_of[first])

    def copy_with(digest: str) -> optuna.Study:
        """The study again, ``second`` carrying ``digest`` as its predictions."""
        other = optuna.create_study(direction="maximize")
        for t in study.trials:
            t = copy.deepcopy(t)
            if t.number == second:
                t.user_attrs[OUTPUTS_DIGEST] = digest
            other.add_trial(t)
        return other

    same = Standing.of(copy_with(study.trials[first].user_attrs[OUTPUTS_DIGEST]), True)
    assert same.model_of[first] == same.model_of[second]
    assert first in same.entrants(20) and second not in same.entrants(20)
    assert second in standing.entrants(20)  # with its own digest it enters
    older = Standing.of(copy_with(""), True)
    assert older.model_of[second].startswith("params:")
    # the twin that did not enter is shown with the raced mean, right after its entrant
    # (trials.csv and pareto.json gave one model two scores, the search's above the race's)
    twin = copy_with(study.trials[first].user_attrs[OUTPUTS_DIGEST])
    twin.set_user_attr(_rescore.ATTR, {str(n): [0.25] for n in same.entrants(20)})
    text = write_spec().read_text().replace("rescore_top: 0", "rescore_top: 20")
    racing = prepare(write_spec(text.replace("{", "{{").replace("}", "}}"), name="race.yaml"))
    result = collect(twin, racing.plan, settings)
    by = {r.number: r for r in result.trials}
    assert by[first].score == pytest.approx((same.first[first] + 0.25) / 2)
    assert by[second].score == by[first].score and by[second].rescores == (0.25,)
    assert by[second].search_score == pytest.approx(same.first[second])
    assert result.ranked.index(second) == result.ranked.index(first) + 1


def test_the_digest_tells_outputs_and_predictions_apart() -> None:
    """Same outputs, other predictions (an anomaly threshold moved): another model."""
    import numpy as np

    out = np.array([[0.1], [0.9], [0.4]], dtype=np.float32)
    a = Validated(1.0, out.astype(np.float64), np.array([0.0, 1.0, 0.0]))
    same = Validated(0.5, out.astype(np.float64), np.array([0, 1, 0]))
    moved = Validated(1.0, out.astype(np.float64), np.array([0.0, 1.0, 1.0]))
    assert a.fingerprint() == same.fingerprint()  # the score is not part of it
    assert a.fingerprint() != moved.fingerprint()
    flat = Validated(1.0, out.reshape(1, 3).astype(np.float64), np.array([0.0, 1.0, 0.0]))
    assert a.fingerprint() != flat.fingerprint()


def test_the_field_is_sized_to_the_time_left() -> None:
    """The best two always run; a slow entrant is passed over and faster ones after it
    still enter while the whole race's estimate fits."""
    entered = [1, 2, 3, 4, 5, 6]
    seconds = {1: 1.0, 2: 1.0, 3: 30.0, 4: 1.0, 5: 1.0, 6: 1.0}
    # 3 entrants of 1 s over 4 halving rounds: 3 + 2 cross-validations = 5 s
    assert race_time_s([1.0, 1.0, 1.0], rounds=4) == 5.0
    assert race_time_s([1.0], rounds=4) == 0.0
    assert fit_field(entered, seconds, rounds=4, left_s=None) == entered
    assert fit_field(entered, seconds, rounds=4, left_s=10.0) == [1, 2, 4, 5, 6]
    assert fit_field(entered, seconds, rounds=4, left_s=6.0) == [1, 2, 4, 5]
    assert fit_field(entered, seconds, rounds=4, left_s=-3.0) == [1, 2]
    # with little time, another recipe's best (6, slower) enters before more
    # configurations of the leading recipe; the field keeps the ranked order
    recipe_of = {1: "gbt", 2: "gbt", 3: "cnn", 4: "gbt", 5: "gbt", 6: "minirocket"}
    seconds[6] = 3.0
    assert fit_field(entered, seconds, rounds=4, left_s=10.0, recipe_of=recipe_of) == [1, 2, 4, 6]
    assert fit_field(entered, seconds, rounds=4, left_s=10.0) == [1, 2, 4, 5]


def test_the_choice_reads_the_race_over_the_field_that_ran(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    """A race cut down to the time left keeps its field in the study; the ranking reads
    the race over that field (over every entrant, the others' missing rounds would
    leave no round complete and the choice on the search's own score)."""
    text = write_spec().read_text().replace("rescore_top: 0", "rescore_top: 20")
    p = prepare(write_spec(text.replace("{", "{{").replace("}", "}}"), name="race.yaml"))
    settings = SearchSettings(trials=None, storage=f"sqlite:///{tmp_path / 'study.db'}")
    run_search(p.plan, p.dataset, SearchSettings(trials=8, storage=settings.storage), print)
    study = optuna.load_study(study_name="demo", storage=settings.storage)
    standing = Standing.of(study, True)
    every = standing.entrants(20)
    assert len(every) >= 4
    ran = study.user_attrs[FIELD]  # no time budget: every entrant ran
    assert ran == {"entrants": every, "of": len(standing.ranked), "top": 20, "rounds": 4}
    rounds = study.user_attrs[ATTR]
    study.set_user_attr(ATTR, {})
    study.set_user_attr(FIELD, {})
    logs: list[str] = []
    cut = run_race(study, p.plan, p.dataset, time.time() - 1.0, logs.append)  # no time left
    assert cut is not None and cut.complete_rounds == 0
    assert study.user_attrs[FIELD]["entrants"] == every[:2]
    assert any(f"{len(every) - 2} more too slow for the time left" in m for m in logs)
    assert stored_field(study, standing, 20, 4) is None  # never begun: a next run re-sizes
    # no round finished: the choice is the search's order, an entrant passed over for
    # time (a slow third; a faster fourth let in) among the field by its search score
    study.set_user_attr(FIELD, {**study.user_attrs[FIELD], "entrants": [*every[:2], every[3]]})
    unraced = collect(study, p.plan, settings)
    assert unraced.race_rounds == 0 and unraced.ranked[: len(standing.ranked)] == standing.ranked
    study.set_user_attr(FIELD, {**study.user_attrs[FIELD], "entrants": every[:2]})
    # the two raced one round (as a later run with time would have)
    study.set_user_attr(ATTR, {str(every[0]): [0.1], str(every[1]): [0.9]})
    result = collect(study, p.plan, settings)
    assert result.raced == 2 and result.race_rounds == 1
    assert result.ranked[0] == every[1]
    # read also when another worker added trials since (its field is what ran) ...
    study.set_user_attr(FIELD, {**study.user_attrs[FIELD], "of": 1})
    assert collect(study, p.plan, settings).race_rounds == 1
    # ... but a race about to run on more trials, or one never begun, chooses again
    # (a field sized with no time left is not kept for a run with time)
    study.set_user_attr(ATTR, rounds)
    study.set_user_attr(FIELD, {"entrants": every[:2], "of": 1, "top": 20, "rounds": 4})
    again = run_race(study, p.plan, p.dataset, None, logs.append)
    assert again is not None and study.user_attrs[FIELD]["entrants"] == every
    assert again.complete_rounds >= 1


def test_two_workers_racing_one_study_keep_each_others_rounds(
    write_spec: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While this worker races, another stores rounds in the same study: its scores are
    kept (this worker wrote its own dictionary over them) and not run again here."""
    text = write_spec().read_text().replace("rescore_top: 0", "rescore_top: 20")
    p = prepare(write_spec(text.replace("{", "{{").replace("}", "}}"), name="race2.yaml"))
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    run_search(p.plan, p.dataset, SearchSettings(trials=8, storage=storage), print)
    study = optuna.load_study(study_name="demo", storage=storage)
    every = Standing.of(study, True).entrants(20)
    assert len(every) >= 3
    study.set_user_attr(ATTR, {})
    other = optuna.load_study(study_name="demo", storage=storage)  # the other worker
    real = _rescore.cross_validate
    ran: list[object] = []

    def racing_beside(*args: object, **kw: object) -> Validated:
        if not ran:  # the other worker's first round of the other entrants lands now
            other.set_user_attr(ATTR, {str(n): [0.5] for n in every[1:]})
        ran.append(kw.get("seed"))
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(_rescore, "cross_validate", racing_beside)
    now = run_race(study, p.plan, p.dataset, None, lambda s: None)
    assert now is not None and now.complete_rounds >= 1
    kept = stored_rounds(study)
    assert all(kept[n][0] == 0.5 for n in every[1:])  # the other worker's round 1
    assert kept[every[0]][0] != 0.5  # this worker's
    # every other score here was run here, and none of the other worker's again
    assert len(ran) == sum(len(v) for v in kept.values()) - (len(every) - 1)


def test_round_seeds_differ_from_the_search_seed_and_stay_in_range() -> None:
    seeds = {round_seed(2**31 - 1, r) for r in range(1, 6)}
    assert len(seeds) == 5 and all(0 <= s < 2**31 for s in seeds)
    assert 2**31 - 1 not in seeds


def test_the_search_ends_with_the_race_and_a_resume_does_not_repeat_it(
    write_spec: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = (
        write_spec().read_text().replace("trials: 4, seed: 3, rescore_top: 0", "trials: 8, seed: 3")
    )
    path = tmp_path / "race.yaml"
    path.write_text(spec)
    p = prepare(path)
    calls: list[int | None] = []
    real = _rescore.cross_validate

    def counting(*args: object, **kw: object) -> Validated:
        calls.append(kw.get("seed"))  # type: ignore[arg-type]
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(_rescore, "cross_validate", counting)
    settings = SearchSettings(trials=8, storage=f"sqlite:///{tmp_path / 'study.db'}")
    logs: list[str] = []
    res = run_search(p.plan, p.dataset, settings, logs.append)
    assert calls and all(s is not None and s != p.plan.seed for s in calls)
    assert any("re-scored the best" in m for m in logs)
    assert res.raced >= 2 and res.race_rounds >= 1
    study = optuna.load_study(study_name="demo", storage=settings.storage)
    stored = study.user_attrs[ATTR]
    assert sum(len(v) for v in stored.values()) == len(calls)
    by = {t.number: t for t in res.trials}
    best = by[res.best_trial]
    assert res.ranked[0] == res.best_trial
    assert best.rescores and best.search_score is not None
    means = [by[n].score for n in res.ranked[: res.raced] if by[n].rescores]
    assert best.score == pytest.approx(
        (best.search_score + sum(best.rescores)) / (1 + len(best.rescores))
    )
    assert res.cv_score == best.score and len(means) == res.raced
    # a resumed run with nothing left to search reads the race from the study
    calls.clear()
    again = run_search(p.plan, p.dataset, settings, logs.append)
    assert calls == []
    assert again.ranked == res.ranked and again.best_trial == res.best_trial


def test_rescore_top_0_chooses_on_the_search_score(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    spec = write_spec().read_text()
    assert "search: {trials: 4, seed: 3, rescore_top: 0}" in spec  # the tests' spec
    p = prepare(write_spec(spec.replace("{", "{{").replace("}", "}}"), name="norace.yaml"))
    settings = SearchSettings(trials=4, storage=f"sqlite:///{tmp_path / 'study.db'}")
    res = run_search(p.plan, p.dataset, settings, lambda s: None)
    assert res.raced == 0 and all(not t.rescores for t in res.trials)
    scores = [t.score for t in res.trials if t.number in res.ranked]
    assert res.cv_score == max(s for s in scores if s is not None)


def test_the_search_keeps_time_for_the_race(
    write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    p = prepare(write_spec())  # rescore_top 0 in the spec: the reserve is asked for 20
    settings = SearchSettings(trials=5, storage=f"sqlite:///{tmp_path / 'study.db'}")
    run_search(p.plan, p.dataset, settings, lambda s: None)
    study = optuna.load_study(study_name="demo", storage=settings.storage)
    need = race_reserve_s(study, True, top=20, rounds=4)
    assert need > 0
    assert race_reserve_s(study, True, top=0, rounds=4) == 0.0

    class Stoppable:  # what StopRule asks of a study
        stopped = False

        def stop(self) -> None:
            self.stopped = True

    trial = study.get_trials(deepcopy=False)[-1]
    soon, later = Stoppable(), Stoppable()
    stop = StopRule(None, time.time() + need / 2, lambda s: need)
    stop(soon, trial)  # type: ignore[arg-type]
    assert soon.stopped and stop.why == "time budget"
    go_on = StopRule(None, time.time() + 10 * need + 60, lambda s: need)
    go_on(later, trial)  # type: ignore[arg-type]
    assert not later.stopped and go_on.why == ""
    # with time left beyond the reserve, a run of duplicates still ends the search (the
    # reserve's test hid the exhausted-space rule whenever a time budget was in force)
    from mcuforge.search._control import EXHAUSTED_AFTER

    dup = copy.copy(trial)
    dup.set_user_attr("duplicate_of", 0)
    done = Stoppable()
    for _ in range(EXHAUSTED_AFTER):
        go_on(done, dup)  # type: ignore[arg-type]
    assert done.stopped and go_on.why.startswith("search space exhausted"), go_on.why


def test_the_report_says_what_the_race_did() -> None:
    from mcuforge.report._sections import race_text

    text = race_text({"raced": 12, "race_rounds": 3})
    assert "best 12 configurations" in text and "3 other fold draw(s)" in text


def test_the_report_names_the_models_the_data_cannot_tell_apart() -> None:
    """Raced models of other recipes within one training window (1/N) of the chosen
    model's mean accuracy are named, the best of each recipe once; others are not."""
    from mcuforge.report._sections import close_text, race_text
    from mcuforge.search import SearchResult, TrialRecord
    from mcuforge.summary import close_calls

    def rec(n: int, recipe: str, score: float, raced: bool = True) -> TrialRecord:
        return TrialRecord(
            n, recipe, {}, score, None, True, "COMPLETE", "", score, (score,) if raced else ()
        )

    trials = [
        rec(1, "raw-knn@1", 0.985),
        rec(2, "raw-forest@1", 0.978),
        rec(3, "raw-forest@1", 0.975),  # the same recipe again: named once
        rec(4, "minirocket-ridge@1", 0.966),  # 0.019 below: more than 1/67
        rec(5, "raw-linear@1", 0.980, raced=False),  # not raced
        rec(6, "raw-knn@1", 0.984),  # the chosen one's own recipe
    ]
    result = SearchResult(
        None,  # type: ignore[arg-type]
        1,
        0.985,
        trials,
        ranked=[1, 6, 2, 3, 5, 4],
    )
    close = close_calls(result, 1, 67, "accuracy")
    assert close == [{"trial": 2, "recipe": "raw-forest@1", "cv_score": 0.978}]
    assert close_calls(result, 1, 67, "f1_macro") == []
    assert close_calls(result, 1, 10, "accuracy")[-1]["recipe"] == "minirocket-ridge@1"
    # a model over a budget once measured is not named; the recipe's next one is not
    # either (each recipe is judged by its best raced model)
    assert close_calls(result, 1, 67, "accuracy", rejected={2}) == [
        {"trial": 3, "recipe": "raw-forest@1", "cv_score": 0.975}
    ]
    # the chosen model was not raced (the closed loop went further down the ranking):
    # one fold draw's score does not compare with means
    assert close_calls(result, 5, 67, "accuracy") == []
    # a recipe whose best raced model is far from the chosen one is not named through a
    # worse model of it that happens to be close
    far = SearchResult(
        None,  # type: ignore[arg-type]
        10,
        0.95,
        [rec(10, "x@1", 0.95), rec(11, "y@1", 0.99), rec(12, "y@1", 0.955)],
        ranked=[11, 10, 12],
    )
    assert close_calls(far, 10, 67, "accuracy") == []
    text = race_text({"raced": 6, "race_rounds": 2, "close_calls": close}, 67)
    assert "1/67 = 0.015" in text and "raw-forest@1 (#2, 0.978)" in text
    assert "cannot tell" not in race_text({"raced": 6, "race_rounds": 2}, 67)
    assert close_text(close, 67) in text and close_text([], 67) == ""
