"""From a search trial to checked C: build, emit, compare with Python, prepare firmware."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__
from .codegen import Provenance, emit_model, emit_test_vectors
from .errors import ParityError
from .hardware.host import run_host
from .scaffold import context
from .search import Candidate, FeatureCache, SearchResult, build, config_from_params, evaluate

if TYPE_CHECKING:
    from .pipeline import Prepared

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


def _parity(
    cand: Candidate, sources: dict[str, str], prefix: str, x_test: np.ndarray
) -> dict[str, Any]:
    """Compile the C on the host, run every test window, compare with Python."""
    host = run_host(sources, prefix, x_test, cand.features.n_outputs, cand.model.n_outputs)
    ref_features = cand.features.transform(x_test)
    ref_out = cand.model.outputs(ref_features)
    task = cand.model.task
    expected = (
        np.zeros(len(x_test), np.int32)
        if task == "regression"
        else cand.model.predict(ref_features).astype(np.int32)
    )
    agree_ret = host.predictions == expected
    rel = np.abs(host.outputs.astype(np.float64) - ref_out) / (1.0 + np.abs(ref_out))
    tol = max(cand.model.tolerance, cand.features.tolerance)
    agree_out = (rel <= tol).all(axis=1) if rel.size else np.ones(len(x_test), bool)
    agree = int((agree_ret & agree_out).sum())
    fdiff = np.abs(host.features.astype(np.float64) - ref_features.astype(np.float64))
    result = {
        "agree": agree,
        "total": len(x_test),
        "features_bit_exact": bool(
            np.array_equal(host.features.view(np.uint32), ref_features.view(np.uint32))
        ),
        "features_max_abs_err": float(fdiff.max()) if fdiff.size else 0.0,
        "outputs_max_rel_err": float(rel.max()) if rel.size else 0.0,
        "tolerance": tol,
    }
    if agree != len(x_test):
        bad = np.flatnonzero(~(agree_ret & agree_out))[:5].tolist()
        raise ParityError(
            f"generated C disagrees with Python on {len(x_test) - agree} of {len(x_test)} "
            f"test windows (first: {bad}); features bit-exact: {result['features_bit_exact']}, "
            f"max output error {result['outputs_max_rel_err']:.3g} (tolerance {tol:g}). "
            "This is a bug in mcuforge: please report it."
        )
    return result


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
    prov = Provenance(__version__, plan.spec.sha256, config.recipe.ref, plan.seed, plan.target.name)
    sources = emit_model(
        spec.prefix, cand.features, cand.model, ds.classes, ds.channels, ds.window, ds.rate_hz, prov
    )
    parity = _parity(cand, sources, spec.prefix, ds.test.x)
    log(
        f"trial #{trial}: {config.recipe.ref}, test {spec.task.resolved_metric} "
        f"{test_score:.4f}; C == Python on {parity['agree']}/{parity['total']} test windows"
    )
    pick = _spread(ds.test.y, spec.output.test_windows)
    expected = np.zeros(len(pick), np.int64) if cand.model.task == "regression" else test_pred[pick]
    vectors = emit_test_vectors(spec.prefix, ds.test.x[pick], expected, prov)
    outputs = cand.model.outputs(cand.features.transform(ds.test.x[pick]))
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
    expect = {
        "expected": [int(v) for v in expected],
        "outputs": [[float(v) for v in row] for row in outputs],
    }
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
