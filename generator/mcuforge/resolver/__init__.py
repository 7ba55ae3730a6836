"""Spec + catalog → plan: which recipes to search, for which target, and why.

Each recipe is checked against the spec (task, data modality, window and channel
ranges, core features, registry names) and against the budgets with an analytic
lower bound of its cost (its smallest configuration). The recipes that pass form
the portfolio, best fit first; the search treats them as one categorical choice.
Every decision carries its reason (``mcuforge explain``).
"""

from ._applies import check_budgets, registry_problems
from ._plan import Decision, Plan, nothing_fits, resolve, update_command

__all__ = [
    "Decision",
    "Plan",
    "check_budgets",
    "nothing_fits",
    "registry_problems",
    "resolve",
    "update_command",
]
