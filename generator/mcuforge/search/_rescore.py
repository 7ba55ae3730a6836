"""Re-scoring the best configurations on other folds before the choice (a race).

On a small training set the best cross-validation score of a study is an optimistic
estimate: among hundreds of configurations, the one whose folds happened to suit it
wins (the winner's curse). On ItalyPowerDemand's 67 training windows dozens of
configurations score 0.986 on the search's folds and 0.92 to 0.97 on folds drawn
otherwise; the first of them was handed over.

So the search ends with a race. The best ``search.rescore_top`` distinct feasible
models, and the best of each recipe not among them, are cross-validated
again, round after round, each round on folds drawn with another seed (which also
seeds the model's training). After each round the worse half, by the mean of all
their scores so far (the search's own and the rounds'), is dropped; the race ends
after ``search.rescore_rounds`` rounds or with one configuration left. The ranking
that the choice reads: the race's last survivors by that mean, then the configurations
dropped later before those dropped earlier (each by its mean), then every trial not
raced by its search score. Trials whose out-of-fold outputs (class scores) in the search
were the same (the digest each trial keeps) are one model: only the best ranked of them
enters, so the race's places go to models that differ; the others follow it in the
ranking with its mean (one model, one score).

The rounds' scores are kept in the study (user attribute ``rescores``), so a resumed
run does not repeat them. The race runs inside the time budget: the search stops
early enough for it (:func:`race_reserve_s`, from the candidates' trial durations)
and the race stops at the budget's end; a round that not every remaining candidate
completed does not count. So that its rounds finish, the field is sized to the time
left (:func:`fit_field`): the best two always enter, then the best of each other
recipe, then the rest, each in ranked order while its trial time still lets the whole
race finish (on PLAID, 31 entrants with a
few 10-25 s trials of weak recipes did not finish one round in the 28 s reserve, and
the choice fell back to the search's optimistic score). The field is kept in the study
(user attribute ``race_field``), so the choice reads the race that ran.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import optuna

from .._deadline import Deadline, TrialTimeout
from ..data import Dataset
from ..resolver import Plan
from ._control import param_key
from ._evaluate import FeatureCache, cross_validate
from ._objective import ADMISSION_WAIT, OUTPUTS_DIGEST, TRIAL_ERRORS
from ._space import config_from_params

#: Round r draws its folds with seed ``spec seed + r * ROUND_SEED_STEP`` (mod 2**31).
ROUND_SEED_STEP = 7919
#: The study's user attribute holding each raced trial's round scores.
ATTR = "rescores"
#: The study's user attribute holding the race's field, ``{"entrants": [...], "of": n,
#: "top": k, "rounds": r}``: the trials that entered, chosen from ``n`` feasible trials
#: for a race of the ``k`` best (``search.rescore_top``) over ``r`` rounds.
FIELD = "race_field"
#: The search keeps at most this share of its time budget for the race.
MAX_RESERVE_SHARE = 0.25

Log = Callable[[str], None]


def round_seed(seed: int, r: int) -> int:
    return (seed + r * ROUND_SEED_STEP) % 2**31


def rank_key(
    score: float, cost: dict[str, Any] | None, number: int, maximize: bool
) -> tuple[float, float, float, int]:
    """The search's ranking: best score, then lower latency, lower flash, earlier trial."""
    c = cost or {}
    return (
        (-1.0 if maximize else 1.0) * score,
        float(c.get("latency_ms", {}).get("value", 0.0)),
        float(c.get("flash_bytes", {}).get("value", 0.0)),
        number,
    )


@dataclass(frozen=True)
class Raced:
    """What the race decided: the trials in their new order, their mean scores over
    the search's fold draw and every round they ran, how many rounds counted, and the
    trials still in the race after them."""

    order: list[int]
    means: dict[int, float]
    rounds: dict[int, list[float]]
    complete_rounds: int
    survivors: list[int]


def entrants(
    ranked: Sequence[int], recipe_of: dict[int, str], model_of: dict[int, str], top: int
) -> list[int]:
    """The ``top`` best distinct models of ``ranked`` (best first), then the best of each
    recipe not among them, in their ranked order. Trials with equal ``model_of`` keys
    are one model: the first of them (the best ranked) enters."""
    if top <= 0:
        return []
    chosen: list[int] = []
    seen: set[str] = set()
    recipes: set[str] = set()
    for n in ranked:
        key = model_of[n]
        if key in seen:
            continue
        if len(chosen) < top or recipe_of[n] not in recipes:
            chosen.append(n)
            seen.add(key)
            recipes.add(recipe_of[n])
    return chosen


def _mean(first: float, rounds: Sequence[float]) -> float:
    return (first + sum(rounds)) / (1 + len(rounds))


def race(
    entered: Sequence[int],
    first: dict[int, float],
    stored: dict[int, list[float]],
    rounds: int,
    maximize: bool,
) -> Raced:
    """Replay the race on the scores at hand: which trials survive each round whose
    scores every survivor has, and the resulting order (see the module docstring)."""
    sign = -1.0 if maximize else 1.0
    rank = {n: i for i, n in enumerate(entered)}
    alive = list(entered)
    dropped: list[list[int]] = []  # per round, the trials it dropped
    done = 0

    def key(n: int) -> tuple[float, int]:
        return (sign * _mean(first[n], stored.get(n, [])[:done]), rank[n])

    while done < rounds and len(alive) > 1:
        if any(len(stored.get(n, [])) <= done for n in alive):
            break
        done += 1
        alive.sort(key=key)
        keep = math.ceil(len(alive) / 2)
        dropped.append(alive[keep:])
        alive = alive[:keep]
    alive.sort(key=key)
    order = list(alive)
    for group in reversed(dropped):
        order += group  # each group is already sorted by its mean at the round it fell
    means = {
        n: _mean(first[n], stored.get(n, [])[:done]) for n in entered if stored.get(n, [])[:done]
    }
    rounds_of = {n: stored.get(n, [])[:done] for n in means}
    return Raced(order, means, rounds_of, done, list(alive))


def stored_rounds(study: optuna.Study) -> dict[int, list[float]]:
    raw = study.user_attrs.get(ATTR, {})
    return {int(k): [float(v) for v in vs] for k, vs in raw.items()}


def merge_rounds(study: optuna.Study, mine: dict[int, list[float]]) -> dict[int, list[float]]:
    """``mine`` with the round scores another worker racing the same study stored since
    (per trial the longer list: a round's folds and seed are the race's, so a round both
    ran is one round), updated in place; writing the merge back keeps both workers'
    rounds (writing ``mine`` alone dropped the other's)."""
    for n, theirs in stored_rounds(study).items():
        if len(theirs) > len(mine.get(n, [])):
            mine[n] = theirs
    return mine


def _model_key(t: optuna.trial.FrozenTrial) -> str:
    """Which model a trial is, for the race: configurations whose outputs on every
    training window were the same in the search's folds are one (e.g. a k-NN's prototype limit
    of 64 or 256 where a fold holds 45 windows); a trial of a study from before the
    digests were kept is its parameters."""
    digest = t.user_attrs.get(OUTPUTS_DIGEST)
    return f"outputs:{digest}" if digest else f"params:{param_key(t.params)}"


@dataclass(frozen=True)
class Standing:
    """The feasible, scored, distinct trials of a study, best first by search score."""

    ranked: list[int]
    first: dict[int, float]
    recipe_of: dict[int, str]
    model_of: dict[int, str]  # the digest of its out-of-fold outputs (else parameters)
    seconds: dict[int, float]  # each trial's wall time (a cross-validation and a build)

    @classmethod
    def of(cls, study: optuna.Study, maximize: bool) -> Standing:
        rows = []
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            if not t.values or any(v > 0 for v in t.user_attrs.get("constraints", [1.0])):
                continue
            took = 0.0
            if t.datetime_start and t.datetime_complete:
                took = (t.datetime_complete - t.datetime_start).total_seconds()
                took = max(0.0, took - float(t.user_attrs.get(ADMISSION_WAIT, 0.0)))
            rows.append((t, took))
        rows.sort(
            key=lambda row: rank_key(
                row[0].values[0], row[0].user_attrs.get("cost"), row[0].number, maximize
            )
        )
        return cls(
            [t.number for t, _ in rows],
            {t.number: float(t.values[0]) for t, _ in rows},
            {t.number: str(t.user_attrs.get("recipe", "")) for t, _ in rows},
            {t.number: _model_key(t) for t, _ in rows},
            {t.number: took for t, took in rows},
        )

    def entrants(self, top: int) -> list[int]:
        return entrants(self.ranked, self.recipe_of, self.model_of, top)


def _runs(field: int, rounds: int) -> int:
    """Cross-validations of a race of ``field`` entrants over ``rounds`` halving rounds."""
    runs, alive = 0, field
    for _ in range(rounds):
        if alive <= 1:
            break
        runs += alive
        alive = math.ceil(alive / 2)
    return runs


def race_time_s(seconds: Sequence[float], rounds: int) -> float:
    """Estimated wall time of a race whose entrants' trials took ``seconds``: their mean
    times the cross-validations of rounds that halve the field."""
    if len(seconds) < 2:
        return 0.0
    return sum(seconds) / len(seconds) * _runs(len(seconds), rounds)


def fit_field(
    entered: Sequence[int],
    seconds: dict[int, float],
    rounds: int,
    left_s: float | None,
    recipe_of: dict[int, str] | None = None,
) -> list[int]:
    """The entrants a race can run in ``left_s`` seconds (None: all), in their ranked
    order: the best two, then the best of each recipe not yet in the field, then the
    others, each while the estimated race time (:func:`race_time_s`) with it stays
    within ``left_s``; an entrant too slow for the time left is passed over and a faster
    one after it may still enter. With little time, the race compares recipes before
    it compares configurations of one recipe (ArrowHead on a Cortex-M0+: 17 of 33
    entrants passed over as too slow, the best MiniRocket among them; a boosted-tree
    configuration won the race at 0.76 and tested 0.61, where the MiniRocket had won a
    race with more time at 0.85 and tested 0.86)."""
    if left_s is None or len(entered) <= 2:
        return list(entered)
    field = list(entered[:2])
    of = recipe_of or {}
    seen = {of.get(n) for n in field}
    firsts = []
    for n in entered[2:]:
        if n in of and of[n] not in seen:
            firsts.append(n)
            seen.add(of[n])
    for n in [*firsts, *(n for n in entered[2:] if n not in firsts)]:
        if race_time_s([seconds[m] for m in [*field, n]], rounds) <= left_s:
            field.append(n)
    order = {n: i for i, n in enumerate(entered)}
    return sorted(field, key=order.__getitem__)


def race_reserve_s(study: optuna.Study, maximize: bool, top: int, rounds: int) -> float:
    """Estimated wall time of the race on the study as it stands: the entrants' mean
    trial duration times the cross-validations of rounds that halve the field."""
    if top <= 0:
        return 0.0
    f = Standing.of(study, maximize)
    return race_time_s([f.seconds[n] for n in f.entrants(top)], rounds)


def stored_field(
    study: optuna.Study, standing: Standing, top: int, rounds: int | None = None
) -> list[int] | None:
    """The race's field kept in the study, for a race of the ``top`` best whose entrants
    are all still feasible; with ``rounds`` (the race about to run), only one chosen from
    the trials the study has now, for that many rounds, that has begun (a field chosen
    with no time left and never raced is chosen again with the time there is now)."""
    kept = study.user_attrs.get(FIELD)
    if not isinstance(kept, dict) or kept.get("top") != top:
        return None
    field = [int(n) for n in kept.get("entrants", [])]
    if len(field) < 2 or not all(n in standing.first for n in field):
        return None
    if rounds is not None:
        if (kept.get("of"), kept.get("rounds")) != (len(standing.ranked), rounds):
            return None
        if not any(stored_rounds(study).get(n) for n in field):
            return None
    return field


def field_of(study: optuna.Study, standing: Standing, top: int) -> list[int]:
    """The trials in the study's race: the field it ran with (also when another worker
    added trials since), else every entrant."""
    kept = stored_field(study, standing, top)
    return kept if kept is not None else standing.entrants(top)


def run_race(
    study: optuna.Study,
    plan: Plan,
    dataset: Dataset,
    end: float | None,
    log: Log,
) -> Raced | None:
    """Run the rounds still missing from the study's race until it is decided or ``end``
    (``time.time()``) passes; the scores go into the study as they come."""
    search = plan.spec.spec.search
    maximize = plan.spec.spec.task.maximize
    f = Standing.of(study, maximize)
    every = f.entrants(search.rescore_top)
    if len(every) < 2:
        return None
    rounds = search.rescore_rounds
    entered = stored_field(study, f, search.rescore_top, rounds)
    if entered is None:
        left = None if end is None else end - time.time()
        entered = fit_field(every, f.seconds, rounds, left, f.recipe_of)
        study.set_user_attr(
            FIELD,
            {
                "entrants": entered,
                "of": len(f.ranked),
                "top": search.rescore_top,
                "rounds": rounds,
            },
        )
    stored = stored_rounds(study)
    cache = FeatureCache(dataset)
    configs = {n: config_from_params(study.trials[n].params, plan.recipes, n) for n in entered}
    t0 = time.monotonic()
    ran = 0

    def undecided(now: Raced) -> bool:
        return now.complete_rounds < rounds and len(now.survivors) > 1

    now = race(entered, f.first, stored, rounds, maximize)
    if undecided(now):
        passed = len(every) - len(entered)
        log(
            f"search: re-scoring the best {len(entered)} configurations on other fold draws "
            f"(up to {rounds} rounds, the worse half dropped each round"
            + (f"; {passed} more too slow for the time left" if passed else "")
            + ")"
        )
    while undecided(now):
        r = now.complete_rounds + 1
        for n in [n for n in now.survivors if len(stored.get(n, [])) < r]:
            if len(merge_rounds(study, stored).get(n, [])) >= r:
                continue  # another worker racing this study ran it meanwhile
            left = None if end is None else end - time.time()
            if left is not None and left <= 0:
                _log_race(log, now, entered, ran, time.monotonic() - t0, "time budget")
                return now
            try:
                with Deadline(left) as deadline:
                    value = cross_validate(
                        configs[n],
                        cache,
                        plan,
                        check=deadline.check,
                        seed=round_seed(plan.seed, r),
                    ).score
            except TrialTimeout:
                _log_race(log, now, entered, ran, time.monotonic() - t0, "time budget")
                return now
            except TRIAL_ERRORS as exc:  # it drops to the end of the race, with the reason
                value = -math.inf if maximize else math.inf
                log(
                    f"search: trial #{n} failed on fold draw {r + 1} of the re-scoring "
                    f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); it drops out"
                )
            stored.setdefault(n, []).append(value)  # a survivor has rounds 1..r-1
            ran += 1
            merge_rounds(study, stored)
            study.set_user_attr(ATTR, {str(k): v for k, v in sorted(stored.items())})
        now = race(entered, f.first, stored, rounds, maximize)
    _log_race(log, now, entered, ran, time.monotonic() - t0, "")
    return now


def _log_race(
    log: Log,
    now: Raced,
    entered: Sequence[int],
    ran: int,
    seconds: float,
    cut: str,
) -> None:
    if not now.complete_rounds:
        if cut:
            log(f"search: no round of the re-scoring finished in the {cut}; first search score")
        return
    best = now.order[0]
    mean = now.means.get(best)
    text = f"{mean:.4f}" if mean is not None else "?"
    if not ran and not cut:
        log(
            f"search: the study's race of the best {len(entered)} configurations "
            f"({now.complete_rounds} round(s)): trial #{best} leads with a mean of {text}"
        )
        return
    log(
        f"search: re-scored the best {len(entered)} configurations on other folds "
        f"({now.complete_rounds} round(s), {ran} cross-validations, {seconds:.0f} s"
        + (f", cut by the {cut}" if cut else "")
        + f"): trial #{best} leads with a mean of {text}"
        + ("" if best == entered[0] else f" (the search's best was trial #{entered[0]})")
    )


__all__ = [
    "ATTR",
    "FIELD",
    "MAX_RESERVE_SHARE",
    "Raced",
    "Standing",
    "entrants",
    "field_of",
    "fit_field",
    "race",
    "race_reserve_s",
    "race_time_s",
    "rank_key",
    "round_seed",
    "run_race",
    "stored_field",
    "stored_rounds",
]
