"""Tree ensembles as flat node arrays, walked the same way in Python and C.

Every tree model (voting forests, boosted trees, regressors, isolation forests) shares
this part: one array per node field over all trees (feature index, threshold, left
and right child; a negative child ``-(i + 1)`` is leaf ``i``) and a root per tree.

Thresholds are either float32 (``thresholds: float``) or int16 (``thresholds: int16``,
the ``tree_int16`` compression).

**float32 thresholds are compared as integers.** ``x <= t`` for float32 values is the
same as ``key(x) <= key(t)`` on their bit patterns ``b`` (as int32) with
``key(b) = b`` for ``b >= 0`` and ``b ^ 0x7fffffff`` for ``b < 0``: an order-preserving
map of floats onto int32 (a threshold of -0.0 is stored as +0.0, so that both zeros go
left). A node therefore costs an integer load and compare on every core: no FPU
instruction, no soft-float call. The generated C reads the feature's bits through a
union (no aliasing cast). In the inline form (:mod:`._inline`) the key is not even
computed: a node with ``t >= 0`` compares the bits as signed integers
(``b <= bits(t)``) and a node with ``t < 0`` as unsigned (``b >= bits(t)``), which is
the same order. NaN features (never produced by mcuforge's blocks on finite input) go
right when their sign bit is clear and left when it is set, in Python and in C alike.

In the int16 form every feature is first mapped to an integer by :class:`FeatureQuant`
(a float subtract and multiply per used feature, once per inference) and each node
compares int16 codes: 2-byte thresholds. The map is monotone, so ``x <= t`` still
implies ``q(x) <= q(t)``: training rows keep their side of every split; only rows
within one quantisation step of a threshold may move.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..codegen.c import c_array, smallest_int_type
from ..cost import CoreCosts

#: Quantised features span [Q_MIN, Q_MIN + Q_SPAN]: the whole int16 range.
Q_MIN = -32768
Q_SPAN = 65535
THRESHOLD_MODES = ("float", "int16")
#: Recipe compressions of every tree family: ``tree_int16`` means ``thresholds: int16``.
TREE_COMPRESSIONS = ("none", "tree_int16")
INT_SIZES = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4}
#: Analytic instruction counts of the table walk (arm-none-eabi-gcc 12.2 -Os, counted
#: in unicorn on Cortex-M4F and M0+, bench/peers.py): per decision node (load the
#: feature index, the feature, the threshold, compare, select and load the child, loop
#: test), the float key on top of it, per tree, and per used feature of the int16
#: quantiser without its float operations.
TABLE_NODE_INSTR = 12.0
KEY_INSTR = 3.0
TABLE_TREE_INSTR = 6.0
QUANT_FEATURE_INSTR = 20.0


def float32_floor(t: np.ndarray) -> np.ndarray:
    """Largest float32 value ≤ each float64 threshold (same decisions for float32 x)."""
    f = np.asarray(t, dtype=np.float64).astype(np.float32)
    too_big = f.astype(np.float64) > t
    f[too_big] = np.nextafter(f[too_big], np.float32(-np.inf))
    return f


def float_key(v: np.ndarray) -> np.ndarray:
    """int64 order keys of float32 values (see the module docstring)."""
    b = np.ascontiguousarray(v, dtype=np.float32).view(np.int32).astype(np.int64)
    out: np.ndarray = np.where(b >= 0, b, b ^ 0x7FFFFFFF)
    return out


def float_bits(v: np.ndarray) -> np.ndarray:
    """int64 of the float32 bit patterns read as int32."""
    out: np.ndarray = np.ascontiguousarray(v, dtype=np.float32).view(np.int32).astype(np.int64)
    return out


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
        with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN clamp below, as in C
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
    #: per leaf: its depth and the share of its tree's training rows that reach it
    #: (what the cost model's expected path length is computed from)
    leaf_depth: np.ndarray | None = None
    leaf_weight: np.ndarray | None = None

    @property
    def n_trees(self) -> int:
        return len(self.roots)

    @property
    def n_nodes(self) -> int:
        return len(self.feature)

    def leaf_index(self, x: np.ndarray) -> np.ndarray:
        """(n, trees) leaf reached in each tree."""
        x = np.asarray(x, dtype=np.float32)
        v: np.ndarray = float_key(x) if self.quant is None else self.quant.apply(x)
        thr = self.compare_threshold()
        rows = np.arange(len(x))
        out = np.empty((len(x), self.n_trees), dtype=np.int64)
        for k, root in enumerate(self.roots):
            node = np.full(len(x), root, dtype=np.int64)
            active = node >= 0
            while active.any():
                idx = node[active]
                go_left = v[rows[active], self.feature[idx]] <= thr[idx]
                node[active] = np.where(go_left, self.left[idx], self.right[idx])
                active = node >= 0
            out[:, k] = -node - 1
        return out

    def compare_threshold(self) -> np.ndarray:
        """What each node compares with: the float key, or the int16 code."""
        if self.quant is None:
            return float_key(self.threshold)
        out: np.ndarray = np.asarray(self.threshold, dtype=np.int64)
        return out

    def max_depth(self) -> int:
        """Deepest leaf over all trees (0 for single-leaf trees)."""
        if self.leaf_depth is None or len(self.leaf_depth) == 0:
            return 0
        return int(self.leaf_depth.max())

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
        if self.quant is None:
            parts.append(
                "\n".join(
                    [
                        "/* order key of a float: its bits as int32, the negative ones mirrored */",
                        f"static int32_t {p}_key(float v)",
                        "{",
                        "    union { float f; int32_t i; } u;",
                        "    u.f = v;",
                        "    return u.i < 0 ? u.i ^ 0x7fffffff : u.i;",
                        "}",
                    ]
                )
            )
        if self.n_nodes:
            thr = "int32_t" if self.quant is None else "int16_t"
            parts += [
                c_array(f"{p}_node_feature", self.feature_type(), self.feature.tolist()),
                c_array(f"{p}_node_threshold", thr, self.compare_threshold().tolist()),
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
        value = (
            f"{p}_key(f[{p}_node_feature[n]])"
            if self.quant is None
            else (f"q[{p}_node_feature[n]]")
        )
        walk = [f"        {self.child_type()} n = {p}_tree_root[t];"]
        if self.n_nodes:
            walk += [
                "        while (n >= 0) {",
                f"            n = ({value} <= {p}_node_threshold[n])",
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
        """Instructions of the table walk to every tree's leaf (and the quantiser)."""
        per_node = TABLE_NODE_INSTR + (KEY_INSTR if self.quant is None else 0.0)
        return (
            self.visited_nodes() * per_node
            + self.n_trees * TABLE_TREE_INSTR
            + self.quantise_instructions(core)
        )

    def quantise_instructions(self, core: CoreCosts) -> float:
        """The int16 quantiser: per used feature loads and stores, a float subtract and
        multiply, two float compares and a conversion (soft-float calls without an FPU;
        about four float operations' worth, measured)."""
        return self.n_codes * (QUANT_FEATURE_INSTR + 4 * core.float_op)

    def quant_bytes(self) -> tuple[int, int]:
        """(flash, stack) of the feature quantiser."""
        if self.quant is None:
            return 0, 0
        return 9 * self.n_codes + 60, 2 * self.n_codes

    def visited_nodes(self) -> float:
        """Expected decisions per inference, summed over trees: each tree's leaf depths
        weighted by the share of training rows reaching the leaf (unweighted when the
        weights are unknown)."""
        if self.n_nodes == 0 or self.leaf_depth is None:
            return 0.0
        weight = self.leaf_weight
        if weight is None:
            weight = np.ones(self.n_leaves) / max(self.n_leaves, 1) * self.n_trees
        return float(np.sum(self.leaf_depth * weight))

    def mean_depth(self) -> float:
        """Expected decisions per tree (see :meth:`visited_nodes`)."""
        return self.visited_nodes() / max(self.n_trees, 1)


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
    leaf_weight: list[np.ndarray] = []
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
        rows = np.asarray(t.n_node_samples, dtype=np.float64)[leaves]
        leaf_weight.append(rows / max(float(rows.sum()), 1.0))
        n_nodes += len(internal)
        n_leaves += len(leaves)
    feature = np.asarray(feats, dtype=np.int64)
    threshold: np.ndarray = float32_floor(np.asarray(thrs, dtype=np.float64))
    threshold[threshold == 0] = np.float32(0.0)  # -0.0 -> +0.0: both zeros go left
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
        leaf_depth=np.concatenate(leaf_depth) if leaf_depth else np.zeros(0, np.int64),
        leaf_weight=np.concatenate(leaf_weight) if leaf_weight else np.zeros(0),
    )
    return FlatForest(nodes, leaf_ids, leaf_depth)
