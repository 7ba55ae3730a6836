"""Step 4, verify: the generated C, compiled for the host, against Python on every test
window (class / flag and ``out`` vector; features bit for bit where the blocks say so)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParityError
from ..hardware.host import run_host
from ..search import Candidate


def verify(
    cand: Candidate, sources: dict[str, str], prefix: str, x_test: np.ndarray
) -> dict[str, Any]:
    """Compile the C on the host, run every test window, compare with Python.

    Raises:
        ParityError: any window disagrees (a bug in mcuforge: the message says so).
    """
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


__all__ = ["verify"]
