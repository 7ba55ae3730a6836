"""Tree ensembles as flat node arrays, walked the same way in Python and C.

Every tree model (voting forests, boosted trees, regressors, isolation forests) shares
this part: one array per node field over all trees (feature index, threshold, left
and right child; a negative child ``-(i + 1)`` is leaf ``i``) and a root per tree.

Thresholds are either float32 (``thresholds: float``) or int16 (``thresholds: int16``,
the ``tree_int16`` compression). In the int16 form every feature is first mapped to
an integer by :class:`FeatureQuant` and each node compares integers, which is what a
core without an FPU does cheaply (one float subtract and multiply per feature, then
integer compares only, instead of a soft-float compare per node). The map is
monotone, so ``x <= t`` still implies ``q(x) <= q(t)``: training rows keep their side
of every split; only rows within one quantisation step of a threshold may move.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..codegen.c import c_array, smallest_int_type
from ..features import CoreCosts

#: Quantised features span [Q_MIN, Q_MIN + Q_SPAN]: the whole int16 range.
Q_MIN = -32768
Q_SPAN = 65535
THRESHOLD_MODES = ("float", "int16")
#: Recipe compressions of every tree family: ``tree_int16`` means ``thresholds: int16``.
TREE_COMPRESSIONS = ("none", "tree_int16")
INT_SIZES = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4}


def float32_floor(t: np.ndarray) -> np.ndarray:
    """Largest float32 value ≤ each float64 threshold (same decisions for float32 x)."""
    f = np.asarray(t, dtype=np.float64).astype(np.float32)
    too_big = f.astype(np.float64) > t
    f[too_big] = np.nextafter(f[too_big], np.float32(-np.inf))
    return f


def threshold_mode(params: dict[str, Any]) -> str:
    """The ``thresholds`` parameter (``compression: tree_int16`` means int16)."""
    mode = str(params.get("thresholds", "float"))
    if params.get("compression") == "tree_int16":
        mode = "int16"
    if mode not in THRESHOLD_MODES:
        raise ValueError(f"thresholds must be one of {list(THRESHOLD_MODES)}, got {mode!r}")
    return mode


@dataclass(frozen=True)
class FeatureQuant:
    """Per-feature affine map of the features the trees use to int16.

    ``q[j] = trunc(clamp((f[columns[j]] - lo[j]) * scale[j], 0, 65535)) - 32768`` with
    the subtraction and the product rounded to float32, as C computes them; NaN maps to
    the lowest code. Only the features some node tests are quantised.
    """

    columns: np.ndarray  # int (used,): feature index of each code
    lo: np.ndarray  # float32 (used,)
    scale: np.ndarray  # float32 (used,)

    @classmethod
    def fit(cls, x: np.ndarray, columns: np.ndarray) -> FeatureQuant:
        """Spread the training range of each used feature over the int16 range."""
        x = np.asarray(x, dtype=np.float32)[:, columns]
        lo = x.min(axis=0)
        span = x.max(axis=0).astype(np.float64) - lo.astype(np.float64)
        scale = np.where(span > 0, Q_SPAN / np.where(span > 0, span, 1.0), 1.0)
        return cls(
            np.asarray(columns, dtype=np.int64), lo.astype(np.float32), scale.astype(np.float32)
        )

    def codes(self, v: np.ndarray, j: np.ndarray | slice) -> np.ndarray:
        """int32 codes of float32 values ``v`` of the used features ``j``."""
        v = (np.asarray(v, dtype=np.float32) - self.lo[j]) * self.scale[j]
        v = np.where(v > 0, v, np.float32(0))
        v = np.where(v > Q_SPAN, np.float32(Q_SPAN), v)
        out: np.ndarray = v.astype(np.int32) + Q_MIN
        return out

    def apply(self, x: np.ndarray) -> np.ndarray:
        """int32 codes (n, used) of feature rows ``x`` (n, k)."""
        return self.codes(np.asarray(x, dtype=np.float32)[:, self.columns], slice(None))

    def emit_c(self, p: str) -> str:
        k = len(self.lo)
        col_t = smallest_int_type(0, int(self.columns.max(initial=0)))
        return "\n\n".join(
            [
                c_array(f"{p}_q_column", col_t, self.columns.tolist()),
                c_array(f"{p}_q_lo", "float", self.lo.tolist()),
                c_array(f"{p}_q_scale", "float", self.scale.tolist()),
                "\n".join(
                    [
                        "/* int16 features: trunc(clamp((f - lo) * scale, 0, 65535)) - 32768 */",
                        f"static void {p}_quantize(const float *f, int16_t *q)",
                        "{",
                        "    int j;",
                        f"    for (j = 0; j < {k}; ++j) {{",
                        f"        float v = (f[{p}_q_column[j]] - {p}_q_lo[j]) * {p}_q_scale[j];",
                        "        if (!(v > 0.0f)) { v = 0.0f; }",
                        f"        if (v > {Q_SPAN}.0f) {{ v = {Q_SPAN}.0f; }}",
                        f"        q[j] = (int16_t)((int32_t)v + ({Q_MIN}));",
                        "    }",
                        "}",
                    ]
                ),
            ]
        )


@dataclass(frozen=True)
class Nodes:
    """The decision nodes of all trees; see the module docstring."""

    feature: np.ndarray  # int (nodes,): feature index, or index into quant.columns
    threshold: np.ndarray  # float32, or int32 codes when quant is set (nodes,)
    left: np.ndarray  # int (nodes,)
    right: np.ndarray  # int (nodes,)
    roots: np.ndarray  # int (trees,): node index, or a leaf code if the tree is one leaf
    n_leaves: int
    n_features: int
    quant: FeatureQuant | None = None

    @property
    def n_trees(self) -> int:
        return len(self.roots)

    @property
    def n_nodes(self) -> int:
        return len(self.feature)

    def leaf_index(self, x: np.ndarray) -> np.ndarray:
        """(n, trees) leaf reached in each tree."""
        x = np.asarray(x, dtype=np.float32)
        v: np.ndarray = x if self.quant is None else self.quant.apply(x)
        rows = np.arange(len(x))
        out = np.empty((len(x), self.n_trees), dtype=np.int64)
        for k, root in enumerate(self.roots):
            node = np.full(len(x), root, dtype=np.int64)
            active = node >= 0
            while active.any():
                idx = node[active]
                go_left = v[rows[active], self.feature[idx]] <= self.threshold[idx]
                node[active] = np.where(go_left, self.left[idx], self.right[idx])
                active = node >= 0
            out[:, k] = -node - 1
        return out

    def child_type(self) -> str:
        return smallest_int_type(-self.n_leaves, max(self.n_nodes - 1, 0))

    @property
    def n_codes(self) -> int:
        return 0 if self.quant is None else len(self.quant.columns)

    def feature_type(self) -> str:
        return smallest_int_type(0, max(self.n_features - 1, 0))

    def emit_arrays(self, p: str) -> list[str]:
        """Node and root arrays (and the feature quantiser)."""
        child = self.child_type()
        parts = [] if self.quant is None else [self.quant.emit_c(p)]
        if self.n_nodes:
            thr = "float" if self.quant is None else "int16_t"
            parts += [
                c_array(f"{p}_node_feature", self.feature_type(), self.feature.tolist()),
                c_array(f"{p}_node_threshold", thr, self.threshold.tolist()),
                c_array(f"{p}_node_left", child, self.left.tolist()),
                c_array(f"{p}_node_right", child, self.right.tolist()),
            ]
        parts.append(c_array(f"{p}_tree_root", child, self.roots.tolist()))
        return parts

    def emit_prologue(self, p: str) -> list[str]:
        """Declarations at the top of the infer function (the quantised features)."""
        if self.quant is None:
            return []
        return [f"    int16_t q[{max(self.n_codes, 1)}];", f"    {p}_quantize(f, q);"]

    def emit_walk(self, p: str) -> list[str]:
        """Lines (inside ``for t``) leaving the leaf code of tree ``t`` in ``n``."""
        src = "f" if self.quant is None else "q"
        walk = [f"        {self.child_type()} n = {p}_tree_root[t];"]
        if self.n_nodes:
            walk += [
                "        while (n >= 0) {",
                f"            n = ({src}[{p}_node_feature[n]] <= {p}_node_threshold[n])",
                f"                ? {p}_node_left[n] : {p}_node_right[n];",
                "        }",
            ]
        return walk

    def node_bytes(self) -> int:
        child = INT_SIZES[self.child_type()]
        thr = 4 if self.quant is None else 2
        return self.n_nodes * (INT_SIZES[self.feature_type()] + thr + 2 * child) + (
            self.n_trees * child
        )

    def walk_instructions(self, core: CoreCosts) -> float:
        """Instructions to reach every tree's leaf (and quantise the features)."""
        # a float compare: VCMP + VMRS + branch with an FPU, libgcc's __aeabi_fcmp* (about
        # 40 instructions on ARMv6-M and ARMv7-M, cores.yaml) without
        compare = (
            (3.0 if core.float_op <= 3 else min(core.float_op, 40.0)) if self.quant is None else 1.0
        )
        # per used feature: load, subtract, multiply, two compares, convert (soft-float calls)
        quantise = self.n_codes * (10 + 5 * core.float_op)
        return self.n_trees * (self.mean_depth() * (8 + compare) + 6) + quantise

    def quant_bytes(self) -> tuple[int, int]:
        """(flash, stack) of the feature quantiser."""
        if self.quant is None:
            return 0, 0
        return 9 * self.n_codes + 60, 2 * self.n_codes

    def mean_depth(self) -> float:
        """Mean number of decisions from root to leaf, over trees (unweighted leaves)."""
        if self.n_nodes == 0:
            return 0.0
        total, count = 0, 0
        stack = [(int(r), 0) for r in self.roots]
        while stack:
            n, d = stack.pop()
            if n < 0:
                total += d
                count += 1
                continue
            stack.append((int(self.left[n]), d + 1))
            stack.append((int(self.right[n]), d + 1))
        return total / max(count, 1)


@dataclass(frozen=True)
class FlatForest:
    """Flattened sklearn trees: the nodes and, per tree, its sklearn leaf node ids."""

    nodes: Nodes
    leaf_ids: list[np.ndarray]  # per tree: sklearn node index of each of its leaves
    leaf_depth: list[np.ndarray]  # per tree: depth of each of its leaves


def flatten(
    trees: list[Any],
    n_features: int,
    mode: str = "float",
    x_train: np.ndarray | None = None,
    feature_maps: list[np.ndarray] | None = None,
) -> FlatForest:
    """Flatten fitted sklearn ``tree_`` objects in order.

    Args:
        trees: sklearn estimators (each with ``tree_``).
        n_features: length of the feature vector.
        mode: ``float`` or ``int16`` thresholds (``int16`` needs ``x_train``).
        x_train: training features, to fit the int16 map.
        feature_maps: per tree, its column → feature index (bagging on feature subsets).
    """
    feats: list[int] = []
    thrs: list[float] = []
    lefts: list[int] = []
    rights: list[int] = []
    roots: list[int] = []
    leaf_ids: list[np.ndarray] = []
    leaf_depth: list[np.ndarray] = []
    n_nodes = n_leaves = 0
    for k, est in enumerate(trees):
        t = est.tree_
        fmap = None if feature_maps is None else np.asarray(feature_maps[k])
        is_leaf = t.children_left < 0
        internal = np.flatnonzero(~is_leaf)
        leaves = np.flatnonzero(is_leaf)
        code = np.zeros(t.node_count, dtype=np.int64)
        code[internal] = n_nodes + np.arange(len(internal))
        code[leaves] = -(n_leaves + np.arange(len(leaves)) + 1)
        depth = np.zeros(t.node_count, dtype=np.int64)
        for node in range(t.node_count):  # sklearn numbers children after their parent
            if not is_leaf[node]:
                d = depth[node] + 1
                depth[t.children_left[node]] = depth[t.children_right[node]] = d
        for i in internal:
            f = int(t.feature[i])
            feats.append(f if fmap is None else int(fmap[f]))
            thrs.append(float(t.threshold[i]))
            lefts.append(int(code[t.children_left[i]]))
            rights.append(int(code[t.children_right[i]]))
        roots.append(int(code[0]))
        leaf_ids.append(leaves)
        leaf_depth.append(depth[leaves])
        n_nodes += len(internal)
        n_leaves += len(leaves)
    feature = np.asarray(feats, dtype=np.int64)
    threshold: np.ndarray = float32_floor(np.asarray(thrs, dtype=np.float64))
    quant = None
    if mode == "int16" and len(feature):  # (trees that are single leaves compare nothing)
        if x_train is None:
            raise ValueError("int16 thresholds need the training features")
        used = np.unique(feature)
        quant = FeatureQuant.fit(x_train, used)
        feature = np.searchsorted(used, feature)
        threshold = quant.codes(threshold, feature).astype(np.int64)
    nodes = Nodes(
        feature=feature,
        threshold=threshold,
        left=np.asarray(lefts, dtype=np.int64),
        right=np.asarray(rights, dtype=np.int64),
        roots=np.asarray(roots, dtype=np.int64),
        n_leaves=n_leaves,
        n_features=n_features,
        quant=quant,
    )
    return FlatForest(nodes, leaf_ids, leaf_depth)
