"""The search: Optuna over recipes and their parameters, under budget constraints.

See ``_study`` for the sampler, storage and final-choice rules, ``_evaluate`` for how
one candidate is built, scored and costed, and ``_space`` for the parameter spaces.
"""

from ._evaluate import (
    Candidate,
    FeatureCache,
    augmentation,
    build,
    cross_validate,
    evaluate,
    score,
)
from ._space import CandidateConfig, config_from_params, grid_space, sample_config
from ._storage import SearchError, default_storage, storage_url
from ._study import (
    SearchResult,
    SearchSettings,
    TrialRecord,
    collect,
    open_study,
    run_search,
    study_parts,
    trial_rows,
)

__all__ = [
    "Candidate",
    "CandidateConfig",
    "FeatureCache",
    "SearchError",
    "SearchResult",
    "SearchSettings",
    "TrialRecord",
    "augmentation",
    "build",
    "collect",
    "config_from_params",
    "cross_validate",
    "default_storage",
    "evaluate",
    "grid_space",
    "open_study",
    "run_search",
    "sample_config",
    "score",
    "storage_url",
    "study_parts",
    "trial_rows",
]
