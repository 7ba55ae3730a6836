"""Voting tree classifiers: decision tree, random forest, extra trees.

The deployed form (what Python scores and C runs) is the flat node arrays of
:mod:`._flat` plus one leaf table. Leaves hold either a class index (``hard`` voting:
each tree votes for its leaf's majority class) or the leaf's class shares quantised to
``uint8`` (``soft`` voting: the shares are summed over trees). Ties go to the lowest
class index in both Python and C. Scores are computed on this deployed form, so the
class scores are integers and C equals Python exactly, with float32 or int16
thresholds (``thresholds: int16``, the ``tree_int16`` compression).

sklearn compares ``x <= threshold`` with float32 ``x`` and a float64 threshold; we
store the largest float32 not above the threshold, which gives the same decision for
every float32 ``x``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from ..codegen.c import c_array
from ..features import CoreCosts
from ._base import DeployedModel, EpochCallback, ModelCost, ModelFamily
from ._checks import check_classes, check_features
from ._flat import INT_SIZES, TREE_COMPRESSIONS, Nodes, flatten, float32_floor, threshold_mode

LEAF_SCALE = 255
_float32_floor = float32_floor  # the name the codegen tests use


@dataclass(frozen=True)
class TreeEnsemble(DeployedModel):
    """Flat arrays for one or more voting trees; see the module docstring."""

    nodes: Nodes
    leaves: np.ndarray  # uint8 (leaves, classes) for soft voting; (leaves,) class for hard
    n_classes: int
    voting: str  # "soft" | "hard"

    @classmethod
    def from_sklearn(
        cls,
        trees: list[tuple[Any, np.ndarray]],
        n_classes: int,
        n_features: int,
        voting: str,
        mode: str = "float",
        x_train: np.ndarray | None = None,
    ) -> TreeEnsemble:
        """Flatten fitted sklearn trees; each comes with the class index of its columns."""
        if voting not in ("soft", "hard"):
            raise ValueError(f"voting must be soft or hard, got {voting!r}")
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
            nodes=flat.nodes, leaves=np.concatenate(leaves), n_classes=n_classes, voting=voting
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

    def emit_c(self, prefix: str) -> str:
        score_t = self._score_type()
        p = prefix
        thr = "int16" if self.nodes.quant is not None else "float"
        parts = [
            f"/* {self.n_trees} tree(s), {self.n_nodes} decision nodes, {self.n_leaves} leaves, "
            f"{self.voting} voting" + (", int16 thresholds. */" if thr == "int16" else ". */"),
            f"#define {p.upper()}_N_TREES {self.n_trees}",
            *self.nodes.emit_arrays(p),
        ]
        if self.voting == "soft":
            parts.append(
                c_array(f"{p}_leaf_share", "uint8_t", self.leaves.tolist(), inner=self.n_classes)
            )
        else:
            parts.append(c_array(f"{p}_leaf_class", "uint8_t", self.leaves.tolist()))
        walk = self.nodes.emit_walk(p)
        if self.voting == "soft":
            walk += [
                "        {",
                f"            const uint8_t *share = {p}_leaf_share[-(n + 1)];",
                "            int k;",
                f"            for (k = 0; k < {self.n_classes}; ++k) {{",
                f"                score[k] = ({score_t})(score[k] + share[k]);",
                "            }",
                "        }",
            ]
        else:
            walk += [f"        score[{p}_leaf_class[-(n + 1)]] += 1u;"]
        parts.append(
            "\n".join(
                [
                    f"static int {p}_infer(const float *f, float *out)",
                    "{",
                    f"    {score_t} score[{self.n_classes}] = {{0}};",
                    "    int t, c, best = 0;",
                    *self.nodes.emit_prologue(p),
                    f"    for (t = 0; t < {self.n_trees}; ++t) {{",
                    *walk,
                    "    }",
                    f"    for (c = 0; c < {self.n_classes}; ++c) {{",
                    "        out[c] = (float)score[c];",
                    "        if (score[c] > score[best]) { best = c; }",
                    "    }",
                    "    return best;",
                    "}",
                ]
            )
        )
        return "\n\n".join(parts)

    def cost(self, core: CoreCosts) -> ModelCost:
        leaf_bytes = self.n_classes if self.voting == "soft" else 1
        q_flash, q_stack = self.nodes.quant_bytes()
        data = self.nodes.node_bytes() + self.n_leaves * leaf_bytes
        code = 120 + (40 if self.voting == "soft" else 0) + q_flash
        # soft vote: load, scale and add each class's leaf score (measured: 10-17 a class)
        per_tree = 12 * self.n_classes if self.voting == "soft" else 4
        instructions = int(
            self.nodes.walk_instructions(core) + self.n_trees * per_tree + 5 * self.n_classes
        )
        sram = 24 + self.n_classes * INT_SIZES[self._score_type()] + q_stack
        params = self.n_nodes * 2 + self.leaves.size
        return ModelCost(data + code, sram, instructions, params)

    def _mean_depth(self) -> float:
        return self.nodes.mean_depth()

    def describe(self) -> dict[str, Any]:
        return {
            "trees": self.n_trees,
            "nodes": self.n_nodes,
            "leaves": self.n_leaves,
            "voting": self.voting,
            "thresholds": "int16" if self.nodes.quant is not None else "float",
            "mean_depth": round(self._mean_depth(), 2),
        }


def _depth(params: dict[str, Any]) -> int | None:
    d = params.get("max_depth", 6)
    return None if d is None else int(d)


class DecisionTreeFamily(ModelFamily):
    """One CART tree (hard vote of its leaf).

    Params: ``max_depth`` (6), ``min_samples_leaf`` (1), ``thresholds`` (float|int16).
    """

    name = "decision_tree"
    compressions = TREE_COMPRESSIONS

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
        check_features(x, y)
        check_classes(y, n_classes)
        tree = DecisionTreeClassifier(
            max_depth=_depth(params),
            min_samples_leaf=int(params.get("min_samples_leaf", 1)),
            random_state=seed,
        ).fit(x, y)
        return TreeEnsemble.from_sklearn(
            [(tree, tree.classes_)], n_classes, x.shape[1], "hard", threshold_mode(params), x
        )


class RandomForestFamily(ModelFamily):
    """Bagged trees on random feature subsets; soft (quantised shares) or hard voting.

    Params: ``n_estimators`` (10), ``max_depth`` (6), ``min_samples_leaf`` (1),
    ``max_features`` (sqrt), ``voting`` (soft|hard), ``thresholds`` (float|int16).
    """

    name = "random_forest"
    compressions = TREE_COMPRESSIONS
    estimator: Any = RandomForestClassifier

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
        check_features(x, y)
        check_classes(y, n_classes)
        forest = self.estimator(
            n_estimators=int(params.get("n_estimators", 10)),
            max_depth=_depth(params),
            min_samples_leaf=int(params.get("min_samples_leaf", 1)),
            max_features=params.get("max_features", "sqrt"),
            random_state=seed,
            n_jobs=1,
        ).fit(x, y)
        # sub-trees number their columns 0..k-1 over the forest's classes_
        trees = [(t, forest.classes_[t.classes_.astype(int)]) for t in forest.estimators_]
        return TreeEnsemble.from_sklearn(
            trees,
            n_classes,
            x.shape[1],
            str(params.get("voting", "soft")),
            threshold_mode(params),
            x,
        )


class ExtraTreesFamily(RandomForestFamily):
    """Extremely randomised trees (random thresholds, no bootstrap); params as random_forest."""

    name = "extra_trees"
    estimator = ExtraTreesClassifier
