"""Step 3, materialize: a search trial rebuilt on all training data, its C and firmware
variables; the C is checked against Python right away (step 4, :mod:`._verify`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .._version import __version__
from ..emit import Provenance, emit_model, emit_test_vectors
from ..scaffold import context
from ..search import Candidate, FeatureCache, SearchResult, build, config_from_params, evaluate
from ._prepare import Prepared
from ._verify import verify

Log = Callable[[str], None]


def _spread(y: np.ndarray, n: int) -> np.ndarray:
    """Indices of up to ``n`` test windows taking the classes in turn (deterministic)."""
    if y.dtype.kind == "f":
        return np.arange(min(n, len(y)), dtype=np.int64)
    queues = [list(np.flatnonzero(y == c)) for c in np.unique(y)]
    out: list[int] = []
    while len(out) < min(n, len(y)):
        for q in queues:
            if q and len(out) < n:
                out.append(int(q.pop(0)))
    return np.asarray(out, dtype=np.int64)


@dataclass
class Materialized:
    """A candidate turned into C, checked against Python and rendered as firmware."""

    cand: Candidate
    trial: int
    test_score: float
    test_pred: np.ndarray
    sources: dict[str, str]
    files: dict[str, str]
    variables: dict[str, str]
    parity: dict[str, Any]
    vectors: dict[str, Any]  # what the firmware's embedded windows must give (report.json)


def _test_vectors(
    p: Prepared, cand: Candidate, test_pred: np.ndarray, n: int, prov: Provenance
) -> tuple[dict[str, str], dict[str, Any]]:
    """``test_vectors.{c,h}`` with ``n`` test windows (classes in turn), and what the
    firmware must give on them (report.json ``test_vectors``)."""
    ds, prefix = p.dataset, p.plan.spec.spec.prefix
    pick = _spread(ds.test.y, n)
    expected = np.zeros(len(pick), np.int64) if cand.model.task == "regression" else test_pred[pick]
    vectors = emit_test_vectors(prefix, ds.test.x[pick], expected, prov)
    outputs = cand.model.outputs(cand.features.transform(ds.test.x[pick]))
    expect = {
        "expected": [int(v) for v in expected],
        "outputs": [[float(v) for v in row] for row in outputs],
    }
    return vectors, expect


def _provenance(p: Prepared, cand: Candidate) -> Provenance:
    plan = p.plan
    return Provenance(
        __version__, plan.spec.sha256, cand.config.recipe.ref, plan.seed, plan.target.name
    )


def with_test_windows(p: Prepared, mat: Materialized, n: int) -> Materialized:
    """``mat`` with ``n`` embedded test windows instead (the first ``n`` of the same
    order, so a smaller set is a prefix of the larger)."""
    vectors, expect = _test_vectors(p, mat.cand, mat.test_pred, n, _provenance(p, mat.cand))
    return replace(mat, files={**mat.sources, **vectors}, vectors=expect)


def with_variables(mat: Materialized, **values: str) -> Materialized:
    """``mat`` with firmware template variables changed (e.g. the measured stack)."""
    return replace(mat, variables={**mat.variables, **values})


def materialize(p: Prepared, trial: int, result: SearchResult, log: Log) -> Materialized:
    """Rebuild a trial's candidate on all training data, emit its C, check it on the host."""
    plan, ds = p.plan, p.dataset
    spec = plan.spec.spec
    frozen = next(r for r in result.trials if r.number == trial)
    config = config_from_params(frozen.params, plan.recipes, trial)
    cand = build(config, FeatureCache(ds), plan)
    xt = cand.features.transform(ds.test.x)
    test_pred = cand.model.predict(xt)
    test_score = evaluate(spec.task.resolved_metric, cand.model, xt, ds.test.y)
    prov = _provenance(p, cand)
    sources = emit_model(
        spec.prefix, cand.features, cand.model, ds.classes, ds.channels, ds.window, ds.rate_hz, prov
    )
    parity = verify(cand, sources, spec.prefix, ds.test.x)
    log(
        f"trial #{trial}: {config.recipe.ref}, test {spec.task.resolved_metric} "
        f"{test_score:.4f}; C == Python on {parity['agree']}/{parity['total']} test windows"
    )
    vectors, expect = _test_vectors(p, cand, test_pred, spec.output.test_windows, prov)
    variables = context(
        spec.prefix,
        plan.target,
        plan.core,
        plan.qemu,
        plan.spec.sha256,
        config.recipe.ref,
        plan.seed,
        task=cand.model.task,
        stride=ds.stride,
    )
    return Materialized(
        cand,
        trial,
        test_score,
        test_pred,
        sources,
        {**sources, **vectors},
        variables,
        parity,
        expect,
    )
