"""Voting tree classifiers: decision tree, random forest, extra trees.

The deployed form (what Python scores and C runs) is the flat node arrays of
:mod:`._flat` plus one leaf table. Leaves hold either a class index (``hard`` voting,
the majority vote: each tree votes for its leaf's majority class) or the leaf's class
shares quantised to ``uint8`` (``soft`` voting, the probability average: the shares
are summed over trees). Ties go to the lowest class index in both Python and C.
Scores are computed on this deployed form, so the class scores are integers and C
equals Python exactly, with float32 or int16 thresholds (``thresholds: int16``, the
``tree_int16`` compression).

Two C layouts of the same model (``layout``):

* ``inline`` (default): every tree as nested ``if``/``else`` (:mod:`._inline`), each
  leaf adds its votes to per-class counters kept in registers: the cost is the
  decisions on the path and one add per class the leaf votes for.
* ``table``: node arrays walked in a loop (:mod:`._flat`): smaller, slower.

sklearn compares ``x <= threshold`` with float32 ``x`` and a float64 threshold; we
store the largest float32 not above the threshold, which gives the same decision for
every float32 ``x``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..cost import CoreCosts
from ._base import DeployedModel, EpochCallback, ModelCost, ModelFamily
from ._checks import check_classes, check_features
from ._ensemble_c import emit_inline, emit_table
from ._flat import INT_SIZES, TREE_COMPRESSIONS, Nodes, flatten, float32_floor
from ._inline import inline_bytes, inline_instructions, resolve_layout
from ._tree_params import ForestParams, TreeParams

LEAF_SCALE = 255
VOTINGS = ("soft", "hard")
_float32_floor = float32_floor  # the name the codegen tests use
#: Analytic costs of the parts around the trees (arm-none-eabi-gcc 12.2 -Os, unicorn,
#: bench/peers.py and synthetic forests up to 1,900 nodes): per class the score
#: conversion and the argmax, plus a soft-float int-to-float call without an FPU (a
#: single tree's one-hot scores need none), and the function's own code. A vote is an
#: add of an immediate to a counter held in a register: ~1.5 bytes of code on average
#: (the compiler merges identical leaves and uses IT blocks).
CLASS_INSTR = 6.0
SOFT_INT_TO_FLOAT_INSTR = 18.0
ONE_TREE_CLASS_INSTR = 8.0
VOTE_BYTES = 1.5
#: Table layout, soft voting: per tree and class, add a leaf's share to a uint16 score
#: (6-7 instructions on Cortex-M4F, 12-13 on Cortex-M0+).
TABLE_SHARE_INSTR = 9
INLINE_BASE_BYTES = 40
TABLE_BASE_BYTES = 120


@dataclass(frozen=True)
class TreeEnsemble(DeployedModel):
    """Flat arrays for one or more voting trees; see the module docstring."""

    nodes: Nodes
    leaves: np.ndarray  # uint8 (leaves, classes) for soft voting; (leaves,) class for hard
    n_classes: int
    voting: str  # "soft" | "hard"
    layout: str = "inline"  # "inline" | "table"

    @classmethod
    def from_sklearn(
        cls,
        trees: list[tuple[Any, np.ndarray]],
        n_classes: int,
        n_features: int,
        voting: str,
        mode: str = "float",
        x_train: np.ndarray | None = None,
        layout: str = "inline",
    ) -> TreeEnsemble:
        """Flatten fitted sklearn trees; each comes with the class index of its columns."""
        if voting not in VOTINGS:
            raise ValueError(f"voting must be one of {', '.join(VOTINGS)}; got {voting!r}")
        flat = flatten([t for t, _ in trees], n_features, mode, x_train)
        leaves = []
        for (tree, tree_classes), ids in zip(trees, flat.leaf_ids, strict=True):
            value = tree.tree_.value[ids, 0, :]  # (leaves, tree classes)
            full = np.zeros((len(ids), n_classes))
            full[:, tree_classes.astype(int)] = value
            share = full / full.sum(axis=1, keepdims=True)
            if voting == "soft":
                leaves.append(np.rint(share * LEAF_SCALE).astype(np.uint8))
            else:
                leaves.append(np.argmax(share, axis=1).astype(np.uint8))
        return cls(
            nodes=flat.nodes,
            leaves=np.concatenate(leaves),
            n_classes=n_classes,
            voting=voting,
            layout=resolve_layout(layout, flat.nodes),
        )

    @property
    def n_trees(self) -> int:
        return self.nodes.n_trees

    @property
    def n_nodes(self) -> int:
        return self.nodes.n_nodes

    @property
    def n_leaves(self) -> int:
        return len(self.leaves)

    def leaf_index(self, x: np.ndarray) -> np.ndarray:
        """(n, trees) leaf reached in each tree."""
        return self.nodes.leaf_index(x)

    @property
    def n_outputs(self) -> int:
        return self.n_classes

    def outputs(self, features: np.ndarray) -> np.ndarray:
        return self._scores(features).astype(np.float32)

    def predict(self, features: np.ndarray) -> np.ndarray:
        best: np.ndarray = np.argmax(self._scores(features), axis=1)  # first max, as in C
        return best

    def _scores(self, features: np.ndarray) -> np.ndarray:
        leaf = self.leaf_index(features)
        if self.voting == "soft":
            scores = self.leaves[leaf].astype(np.int64).sum(axis=1)
        else:
            votes = self.leaves[leaf]
            scores = np.zeros((len(leaf), self.n_classes), dtype=np.int64)
            for c in range(self.n_classes):
                scores[:, c] = (votes == c).sum(axis=1)
        out: np.ndarray = scores
        return out

    def _score_type(self) -> str:
        return "uint16_t" if self.n_trees * LEAF_SCALE < 65536 else "uint32_t"

    def _leaf_votes(self, leaf: int) -> list[tuple[int, int]]:
        """(class, amount) pairs a leaf adds to the scores."""
        if self.voting == "hard":
            return [(int(self.leaves[leaf]), 1)]
        return [(c, int(v)) for c, v in enumerate(self.leaves[leaf]) if v]

    def emit_c(self, prefix: str) -> str:
        p, P = prefix, prefix.upper()
        thr = "int16 thresholds" if self.nodes.quant is not None else "float32 thresholds"
        vote = {"soft": "probability average", "hard": "majority vote"}[self.voting]
        parts = [
            f"/* {self.n_trees} tree(s), {self.n_nodes} decision nodes, {self.n_leaves} "
            f"leaves, {self.voting} voting ({vote}), {thr}, {self.layout} layout. */",
            f"#define {P}_N_TREES {self.n_trees}",
            f"#define {P}_N_SCORES {self.n_classes}",
        ]
        body = emit_inline(self, p) if self.layout == "inline" else emit_table(self, p)
        return "\n\n".join([*parts, *body])

    def cost(self, core: CoreCosts) -> ModelCost:
        q_flash, q_stack = self.nodes.quant_bytes()
        votes = [len(self._leaf_votes(i)) for i in range(self.n_leaves)]
        mean_votes = float(np.mean(votes)) if votes else 1.0
        convert = SOFT_INT_TO_FLOAT_INSTR if core.float_op > 1 else 0.0
        tail = self.n_classes * (CLASS_INSTR + convert)
        if self.layout == "inline":
            instructions = inline_instructions(self.nodes, mean_votes)
            instructions += self.nodes.quantise_instructions(core)
            flash = inline_bytes(self.nodes, VOTE_BYTES * mean_votes) + INLINE_BASE_BYTES
            if self.n_trees == 1:
                tail = self.n_classes * ONE_TREE_CLASS_INSTR
                flash += self.leaves.size if self.voting == "soft" else 0
            sram = 40 + 4 * self.n_classes + q_stack
        else:
            leaf_bytes = self.n_classes if self.voting == "soft" else 1
            per_tree = TABLE_SHARE_INSTR * self.n_classes if self.voting == "soft" else 4
            instructions = self.nodes.walk_instructions(core) + self.n_trees * per_tree
            flash = self.nodes.node_bytes() + self.n_leaves * leaf_bytes + TABLE_BASE_BYTES
            flash += 40 if self.voting == "soft" else 0
            sram = 24 + self.n_classes * INT_SIZES[self._score_type()] + q_stack
        params = self.n_nodes * 2 + self.leaves.size
        return ModelCost(int(flash + q_flash), sram, int(instructions + tail), params)

    def _mean_depth(self) -> float:
        return self.nodes.mean_depth()

    def describe(self) -> dict[str, Any]:
        return {
            "trees": self.n_trees,
            "nodes": self.n_nodes,
            "leaves": self.n_leaves,
            "voting": self.voting,
            "layout": self.layout,
            "thresholds": "int16" if self.nodes.quant is not None else "float",
            "mean_depth": round(self._mean_depth(), 2),
        }


class DecisionTreeFamily(ModelFamily):
    """One CART tree (hard vote of its leaf); parameters in :class:`TreeParams`."""

    name = "decision_tree"
    compressions = TREE_COMPRESSIONS
    Params = TreeParams

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
        check_features(x, y)
        check_classes(y, n_classes)
        from sklearn.tree import DecisionTreeClassifier

        tree = DecisionTreeClassifier(
            max_depth=p.max_depth, min_samples_leaf=p.min_samples_leaf, random_state=seed
        ).fit(x, y)
        return TreeEnsemble.from_sklearn(
            [(tree, tree.classes_)], n_classes, x.shape[1], "hard", p.threshold_mode(), x, p.layout
        )


class RandomForestFamily(ModelFamily):
    """Bagged trees on random feature subsets; soft (quantised shares) or hard voting;
    parameters in :class:`ForestParams`."""

    name = "random_forest"
    compressions = TREE_COMPRESSIONS
    size_param = "n_estimators"
    Params = ForestParams
    #: the scikit-learn class in ``sklearn.ensemble`` (imported when a model is trained)
    estimator = "RandomForestClassifier"

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
        assert isinstance(p, ForestParams)
        check_features(x, y)
        check_classes(y, n_classes)
        forest = getattr(importlib.import_module("sklearn.ensemble"), self.estimator)(
            n_estimators=p.n_estimators,
            max_depth=p.max_depth,
            min_samples_leaf=p.min_samples_leaf,
            max_features=p.max_features,
            random_state=seed,
            n_jobs=1,
        ).fit(x, y)
        # sub-trees number their columns 0..k-1 over the forest's classes_
        trees = [(t, forest.classes_[t.classes_.astype(int)]) for t in forest.estimators_]
        return TreeEnsemble.from_sklearn(
            trees,
            n_classes,
            x.shape[1],
            p.voting,
            p.threshold_mode(),
            x,
            p.layout,
        )


class ExtraTreesFamily(RandomForestFamily):
    """Extremely randomised trees (random thresholds, no bootstrap); params as random_forest."""

    name = "extra_trees"
    estimator = "ExtraTreesClassifier"
