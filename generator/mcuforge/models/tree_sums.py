"""Trees whose leaf values are summed: gradient boosting and tree regressors.

The deployed form :class:`TreeSum` is the flat node arrays of :mod:`._flat` plus, per
tree, the output it adds to and, per leaf, a value. Inference starts each output at
its initial value, adds the leaf of every tree **in tree order** (stage by stage,
class by class for boosting) and multiplies the sum by ``post_scale`` (1 for
boosting, ``1/trees`` for averaging regressors). Python does the same float32
operations in the same order, so the outputs are bit-exact in C.

With ``thresholds: int16`` (the ``tree_int16`` compression) the leaf and initial
values are int16/int32 codes of one scale, summed as integers (exact), and only the
final ``(float)sum * post_scale`` is a float operation.

Classification (boosting): argmax of the raw scores, ties to the lowest class; a class
missing from the training rows scores ``ABSENT`` and never wins. For two classes
sklearn fits one tree per stage for class 1; class 0 then scores a constant 0, so
class 1 wins exactly when its raw score is positive, as in sklearn.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..codegen.c import smallest_int_type
from ..cost import CoreCosts
from ..errors import DataError
from ._base import DeployedModel, EpochCallback, ModelCost, ModelFamily
from ._checks import check_classes, check_features
from ._flat import INT_SIZES, TREE_COMPRESSIONS, Nodes, flatten
from ._inline import inline_bytes, inline_instructions, resolve_layout
from ._sum_c import emit_inline, emit_table
from ._tree_params import BoostParams, ForestRegressorParams, TreeCodeParams, TreeParams

#: Raw score of a class absent from the training rows (float and int16 forms).
ABSENT = -1e30
ABSENT_CODE = -(2**30)
LEAF_CODE_MAX = 32767
#: Largest log-odds a boosting stage may add (e^12 ~ 160,000:1). scikit-learn's Newton
#: step divides by sum p (1 - p), which on separable data approaches zero and gives leaf
#: values up to 1e30 and beyond: they overflow float32 and leave int16 leaf codes no
#: resolution for the ordinary leaves. Clipping keeps every such leaf's decision.
STAGE_LOGIT_MAX = 12.0
#: Flash of an inline leaf's statement: a literal load, an add and the 4-byte literal,
#: shared between equal values (measured 6-9 bytes, bench/peers.py gbt and a 60-tree
#: synthetic one). A soft-float add costs less than the core's mean float operation
#: (add 73 vs 78 for add, mul and compare on ARMv6-M, cores.yaml): 0.8 of it.
FLOAT_ADD_SHARE = 0.8
INLINE_SUM_LEAF_BYTES = 8.0


@dataclass(frozen=True)
class TreeSum(DeployedModel):
    """Summed leaf values; see the module docstring."""

    nodes: Nodes
    tree_output: np.ndarray  # int (trees,): which output each tree adds to
    leaf_value: np.ndarray  # float32, or int64 codes when int_values (leaves,)
    init: np.ndarray  # float32, or int64 codes when int_values (outputs,)
    post_scale: np.float32
    int_values: bool
    task: str = "classification"
    threshold: np.float32 | None = None  # anomaly: flag when out[0] > threshold
    layout: str = "inline"  # "inline" | "table" (see :mod:`.trees`)

    @property
    def anomaly_threshold(self) -> float | None:
        return None if self.threshold is None else float(self.threshold)

    @property
    def n_outputs(self) -> int:
        return len(self.init)

    def _acc(self, features: np.ndarray) -> np.ndarray:
        leaf = self.nodes.leaf_index(features)
        dtype = np.int64 if self.int_values else np.float32
        acc = np.tile(self.init.astype(dtype), (len(leaf), 1))
        for t in range(self.nodes.n_trees):
            o = int(self.tree_output[t])
            acc[:, o] = acc[:, o] + self.leaf_value[leaf[:, t]].astype(dtype)
        return acc

    def outputs(self, features: np.ndarray) -> np.ndarray:
        acc = self._acc(features)
        if self.int_values:
            acc = acc.astype(np.int32).astype(np.float32)
        out: np.ndarray = (acc * self.post_scale).astype(np.float32)
        return out

    def predict(self, features: np.ndarray) -> np.ndarray:
        if self.task == "classification":
            best: np.ndarray = np.argmax(self._acc(features), axis=1)
            return best
        out = self.outputs(features)[:, 0]
        if self.task == "anomaly":
            assert self.threshold is not None
            flags: np.ndarray = (out > self.threshold).astype(np.int64)
            return flags
        return out

    def _acc_type(self) -> str:
        return "int32_t" if self.int_values else "float"

    def emit_c(self, prefix: str) -> str:
        p, P, n = prefix, prefix.upper(), self.nodes
        kind = "int16 thresholds and leaves" if self.int_values else "float32 thresholds"
        parts = [
            f"/* {n.n_trees} tree(s), {n.n_nodes} decision nodes, {len(self.leaf_value)} "
            f"leaves, leaf values summed in tree order ({kind}), {self.layout} layout. */",
            f"#define {P}_N_TREES {n.n_trees}",
            f"#define {P}_N_SCORES {self.n_outputs}",
        ]
        body = emit_inline(self, p) if self.layout == "inline" else emit_table(self, p)
        return "\n\n".join([*parts, *body])

    def cost(self, core: CoreCosts) -> ModelCost:
        n = self.nodes
        q_flash, q_stack = n.quant_bytes()
        add = 1.0 if self.int_values or core.float_op <= 1 else FLOAT_ADD_SHARE * core.float_op
        tail = self.n_outputs * (8 + 2 * core.float_op)
        if self.layout == "inline":
            # a leaf: load its value (a literal) and add it to the output's sum
            instructions = inline_instructions(n, 1.0 + add) + n.quantise_instructions(core)
            flash = inline_bytes(n, INLINE_SUM_LEAF_BYTES) + 4 * self.n_outputs + 40
            sram = 40 + 4 * self.n_outputs + q_stack
        else:
            leaf_bytes = 2 if self.int_values else 4
            out_bytes = INT_SIZES[smallest_int_type(0, max(self.n_outputs - 1, 0))]
            flash = (
                n.node_bytes()
                + len(self.leaf_value) * leaf_bytes
                + 4 * self.n_outputs
                + (n.n_trees * out_bytes if self.n_outputs > 1 else 0)
                + 160
            )
            instructions = n.walk_instructions(core) + n.n_trees * (6 + add)
            sram = 24 + 4 * self.n_outputs + q_stack
        params = 2 * n.n_nodes + len(self.leaf_value) + self.n_outputs
        return ModelCost(int(flash + q_flash), sram, int(instructions + tail), params)

    def describe(self) -> dict[str, Any]:
        return {
            "trees": self.nodes.n_trees,
            "nodes": self.nodes.n_nodes,
            "leaves": len(self.leaf_value),
            "thresholds": "int16" if self.int_values else "float",
            "layout": self.layout,
            "mean_depth": round(self.nodes.mean_depth(), 2),
        }


def build_tree_sum(
    trees: list[Any],
    tree_output: list[int],
    leaf_values: list[np.ndarray],
    init: np.ndarray,
    divide_by_trees: bool,
    x: np.ndarray,
    params: TreeCodeParams,
    task: str,
    feature_maps: list[np.ndarray] | None = None,
    leaf_fn: Any = None,
) -> TreeSum:
    """Flatten ``trees`` and attach per-leaf values (float64, by sklearn leaf id order).

    ``leaf_values[k]`` maps tree ``k``'s sklearn node id to its value; ``leaf_fn``, if
    given, computes a tree's leaf values from the flattening (leaf ids and depths).
    """
    mode = params.threshold_mode()
    flat = flatten(trees, x.shape[1], mode, x, feature_maps)
    layout = resolve_layout(params.layout, flat.nodes)
    if leaf_fn is not None:
        values = np.concatenate([leaf_fn(k, flat) for k in range(len(trees))])
    else:
        values = np.concatenate(
            [lv[ids] for lv, ids in zip(leaf_values, flat.leaf_ids, strict=True)]
        )
    present = init > ABSENT / 2
    n_trees = max(len(trees), 1)
    if mode == "int16":
        top = max(
            float(np.abs(values).max(initial=0.0)), float(np.abs(init[present]).max(initial=0.0))
        )
        scale = LEAF_CODE_MAX / top if top > 0 else 1.0
        leaf = np.rint(values * scale).astype(np.int64)
        init_c = np.where(present, np.rint(np.where(present, init, 0.0) * scale), ABSENT_CODE)
        post = 1.0 / scale / (n_trees if divide_by_trees else 1)
        return TreeSum(
            nodes=flat.nodes,
            tree_output=np.asarray(tree_output, dtype=np.int64),
            leaf_value=leaf,
            init=init_c.astype(np.int64),
            post_scale=np.float32(post),
            int_values=True,
            task=task,
            layout=layout,
        )
    return TreeSum(
        nodes=flat.nodes,
        tree_output=np.asarray(tree_output, dtype=np.int64),
        leaf_value=values.astype(np.float32),
        init=init.astype(np.float32),
        post_scale=np.float32(1.0 / n_trees if divide_by_trees else 1.0),
        int_values=False,
        task=task,
        layout=layout,
    )


def _regression_target(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    check_features(x, y)
    yf = np.asarray(y, dtype=np.float64)
    if not np.all(np.isfinite(yf)):
        raise DataError("regression targets contain NaN or infinite values")
    return yf


class GradientBoostingFamily(ModelFamily):
    """Gradient-boosted regression trees on the log-loss (sklearn
    ``GradientBoostingClassifier``); parameters in :class:`BoostParams`."""

    name = "gradient_boosting"
    compressions = TREE_COMPRESSIONS
    size_param = "n_estimators"
    Params = BoostParams

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        params: dict[str, Any],
        seed: int,
        *,
        input_shape: tuple[int, ...] | None = None,
        on_epoch: EpochCallback | None = None,
    ) -> DeployedModel:
        p = self.parse_params(params)
        assert isinstance(p, BoostParams)
        check_features(x, y)
        present = check_classes(y, n_classes)
        lr = p.learning_rate
        from sklearn.ensemble import GradientBoostingClassifier

        gbc = GradientBoostingClassifier(
            n_estimators=p.n_estimators,
            learning_rate=lr,
            max_depth=p.max_depth,
            min_samples_leaf=p.min_samples_leaf,
            subsample=p.subsample,
            random_state=seed,
        ).fit(x, y)
        prior = np.bincount(np.searchsorted(present, y), minlength=len(present)) / len(y)
        init = np.full(n_classes, ABSENT)
        trees, outs, values = [], [], []
        if len(present) == 2:  # one tree per stage, raw log-odds of the second class
            init[present[0]] = 0.0
            init[present[1]] = np.log(prior[1] / prior[0])
            columns = [int(present[1])]
        else:
            init[present] = np.log(prior) - np.log(prior).mean()  # sklearn's symmetric logit
            columns = [int(c) for c in present]
        for stage in gbc.estimators_:
            for k, col in enumerate(columns):
                tree = stage[k]
                trees.append(tree)
                outs.append(col)
                step = tree.tree_.value[:, 0, 0] * lr
                values.append(np.clip(step, -STAGE_LOGIT_MAX, STAGE_LOGIT_MAX))
        return build_tree_sum(trees, outs, values, init, False, x, p, "classification")


class _TreeRegressorFamily(ModelFamily):
    task = "regression"
    compressions = TREE_COMPRESSIONS
    #: the scikit-learn class (``sklearn.ensemble`` or ``sklearn.tree``), imported when a
    #: model is trained
    estimator = ""
    Params = TreeParams

    def _make(self, p: TreeParams, seed: int) -> Any:
        common = {
            "max_depth": p.max_depth,
            "min_samples_leaf": p.min_samples_leaf,
            "random_state": seed,
        }
        if not isinstance(p, ForestRegressorParams):
            from sklearn.tree import DecisionTreeRegressor

            return DecisionTreeRegressor(**common)
        return getattr(importlib.import_module("sklearn.ensemble"), self.estimator)(
            n_estimators=p.n_estimators, max_features=p.max_features, n_jobs=1, **common
        )

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        params: dict[str, Any],
        seed: int,
        *,
        input_shape: tuple[int, ...] | None = None,
        on_epoch: EpochCallback | None = None,
    ) -> DeployedModel:
        p = self.parse_params(params)
        assert isinstance(p, TreeParams)
        yf = _regression_target(x, y)
        model = self._make(p, seed).fit(x, yf)
        trees = getattr(model, "estimators_", [model])
        values = [t.tree_.value[:, 0, 0] for t in trees]
        return build_tree_sum(
            trees, [0] * len(trees), values, np.zeros(1), True, x, p, "regression"
        )


class DecisionTreeRegressorFamily(_TreeRegressorFamily):
    """One CART regression tree; parameters in :class:`TreeParams`."""

    name = "decision_tree_regressor"
    estimator = "DecisionTreeRegressor"


class RandomForestRegressorFamily(_TreeRegressorFamily):
    """Bagged regression trees, averaged; parameters in :class:`ForestRegressorParams`."""

    name = "random_forest_regressor"
    estimator = "RandomForestRegressor"
    size_param = "n_estimators"
    Params = ForestRegressorParams


class ExtraTreesRegressorFamily(_TreeRegressorFamily):
    """Extremely randomised regression trees, averaged; parameters in
    :class:`ForestRegressorParams`."""

    name = "extra_trees_regressor"
    estimator = "ExtraTreesRegressor"
    size_param = "n_estimators"
    Params = ForestRegressorParams


class GradientBoostingRegressorFamily(ModelFamily):
    """Boosted regression trees on squared error; parameters in :class:`BoostParams`."""

    name = "gradient_boosting_regressor"
    compressions = TREE_COMPRESSIONS
    task = "regression"
    size_param = "n_estimators"
    Params = BoostParams

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        params: dict[str, Any],
        seed: int,
        *,
        input_shape: tuple[int, ...] | None = None,
        on_epoch: EpochCallback | None = None,
    ) -> DeployedModel:
        p = self.parse_params(params)
        assert isinstance(p, BoostParams)
        yf = _regression_target(x, y)
        lr = p.learning_rate
        from sklearn.ensemble import GradientBoostingRegressor

        gbr = GradientBoostingRegressor(
            n_estimators=p.n_estimators,
            learning_rate=lr,
            max_depth=p.max_depth,
            min_samples_leaf=p.min_samples_leaf,
            subsample=p.subsample,
            random_state=seed,
        ).fit(x, yf)
        trees = [stage[0] for stage in gbr.estimators_]
        values = [t.tree_.value[:, 0, 0] * lr for t in trees]
        init = np.array([yf.mean()])
        return build_tree_sum(trees, [0] * len(trees), values, init, False, x, p, "regression")
