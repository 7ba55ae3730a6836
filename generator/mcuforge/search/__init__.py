"""The search: Optuna over recipes and their parameters, under budget constraints.

``_run`` runs a study (warm start, workers, resuming), ``_objective`` is one trial,
``_control`` how the search spends its time, ``_study`` the sampler and the study,
``_collect`` the final choice, ``_evaluate`` how one candidate is built, scored and
costed, ``_space`` the parameter spaces.
"""

import sys

from .._callable import CallableModule
from ._collect import collect, trial_rows
from ._evaluate import (
    Candidate,
    FeatureCache,
    augmentation,
    build,
    cross_validate,
    evaluate,
    score,
)
from ._run import run_search
from ._space import CandidateConfig, config_from_params, grid_space, sample_config
from ._storage import SearchError, default_storage, storage_url
from ._study import open_study, study_parts
from ._types import SearchResult, SearchSettings, TrialRecord

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


sys.modules[__name__].__class__ = CallableModule  # mcuforge.search(...) is the API call
