"""How the search runs (objectives, trials and time, workers) and how its candidates
are measured (profiler, board)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ._common import MAX_SEED, Duration, Strict

Objective = Literal["score", "latency", "flash", "sram", "energy"]

#: Search wall time when the spec gives neither `trials` nor `time_budget`.
DEFAULT_TIME_BUDGET_S = 180.0
#: Shortest default per-trial limit, and the default when only `trials` is given.
MIN_TRIAL_TIMEOUT_S = 30.0
NO_BUDGET_TRIAL_TIMEOUT_S = 600.0


class Search(Strict):
    """The search for the best candidate."""

    strategy: Literal["auto", "tpe", "nsga2", "gp", "random", "grid"] = Field(
        default="auto",
        description="Optuna sampler. `auto`: TPE for one objective, NSGA-II for several.",
    )
    objectives: list[Objective] = Field(
        default_factory=lambda: list[Objective](["score"]),
        min_length=1,
        description="What the search optimises: the task metric, and optionally the cost "
        "figures (minimised; `energy`: per inference, from the target's datasheet current); "
        "several give a Pareto front.",
    )
    trials: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="Number of trials (the study's total). With `time_budget` too, the first "
        "reached ends the search; with neither, the search runs for the default time budget.",
    )
    time_budget: Duration | None = Field(
        default=None,
        description="Wall time of the search, e.g. `5m`, `90s`, `1h30m` (or seconds). "
        f"Default: {DEFAULT_TIME_BUDGET_S / 60:g}m when `trials` is not given.",
    )
    trial_timeout: Duration | None = Field(
        default=None,
        description="The most one trial may take (it is then stopped and recorded with the "
        "reason). Default: a quarter of the time budget, at least "
        f"{MIN_TRIAL_TIMEOUT_S:g} s ({NO_BUDGET_TRIAL_TIMEOUT_S / 60:g} min without a time "
        "budget).",
    )
    seed: int = Field(
        default=0, ge=0, le=MAX_SEED, description="Seed of the search and of every model."
    )
    folds: int = Field(
        default=3,
        ge=2,
        le=10,
        description="Cross-validation folds (by recording; by subject with "
        "`split: {by: subject}`, also beside `test_files`).",
    )
    storage: str | None = Field(
        default=None,
        description="Optuna storage URL (e.g. postgresql://user@host/db) shared by workers; "
        "default: an SQLite file beside the output directory, copied into it.",
    )
    jobs: int = Field(default=1, ge=1, le=64, description="Local parallel worker processes.")
    pruner: Literal["none", "median", "hyperband"] = Field(
        default="median", description="Stops unpromising neural-network trials early (per epoch)."
    )
    rescore_top: int = Field(
        default=20,
        ge=0,
        le=200,
        description="At the end of the search, this many of the best distinct feasible "
        "models (configurations with the same out-of-fold outputs count once; and "
        "the best of each other recipe) are cross-validated again on "
        "folds drawn with other seeds, the worse half dropped each round, and the choice "
        "made on the mean score: on small data the best score of one fold draw is "
        "optimistic. 0: choose on the search's score alone.",
    )
    rescore_rounds: int = Field(
        default=4,
        ge=1,
        le=20,
        description="Rounds of that re-scoring (each on a new fold draw), within the time budget.",
    )

    @property
    def budget_s(self) -> float | None:
        """The search's wall-time budget in seconds (the default one when no trial count)."""
        if self.time_budget is not None:
            return self.time_budget
        return DEFAULT_TIME_BUDGET_S if self.trials is None else None

    @property
    def trial_timeout_s(self) -> float:
        """The per-trial limit in force."""
        if self.trial_timeout is not None:
            return self.trial_timeout
        budget = self.budget_s
        if budget is None:
            return NO_BUDGET_TRIAL_TIMEOUT_S
        return max(budget / 4, MIN_TRIAL_TIMEOUT_S)

    @field_validator("objectives")
    @classmethod
    def _score_first(cls, v: list[str]) -> list[str]:
        if v[0] != "score" or len(set(v)) != len(v):
            raise ValueError(
                "objectives start with `score` and name each figure once, e.g. [score, latency]"
            )
        return v


class Hardware(Strict):
    """How candidates are measured (the closed loop of search and hardware)."""

    profiler: str = Field(
        default="auto",
        pattern=r"^[a-z][a-z0-9_\-]*$",
        description="`auto`: the core's profilers (compile and emulate what the tools here "
        "allow); `analytic`: estimates only; `device`: also measure on a board over `port`; "
        "or the name of any other registered profiler (a plugin), run after the core's.",
    )
    top_k: int = Field(
        default=3,
        ge=1,
        le=20,
        description="How many of the best candidates are measured before the final choice "
        "(the first whose measured cost meets every budget wins).",
    )
    port: str | None = Field(
        default=None,
        description="Serial port of the board (`/dev/ttyACM0`, or any pyserial URL such as "
        "`socket://host:port`), with `profiler: device`.",
    )
    baudrate: int = Field(default=115200, gt=0, le=100_000_000, description="Serial speed.")
    flash_command: str | None = Field(
        default=None,
        description="Command that flashes a firmware onto the board; `{elf}` and `{hex}` "
        "are replaced, e.g. `pyocd flash -t nrf52840 {hex}`.",
    )
    calibration: str | None = Field(
        default=None,
        description="A calibration.json from an earlier output: measured corrections of the "
        "analytic cost for this target, used during the search.",
    )

    @model_validator(mode="after")
    def _device(self) -> Hardware:
        if self.profiler == "device" and not (self.port and self.flash_command):
            raise ValueError("`profiler: device` needs `port` and `flash_command`")
        return self
