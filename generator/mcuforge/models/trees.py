"""Decision trees and random forests, exported to flat node arrays.

The deployed form (what Python scores and C runs) is one array per node field over
all trees: feature index, float32 threshold, left and right child. A negative child
``-(i + 1)`` is leaf ``i``. Leaves hold either a class index (``hard`` voting: each
tree votes for its leaf's majority class) or the leaf's class shares quantised to
``uint8`` (``soft`` voting: the shares are summed over trees). Ties go to the lowest
class index in both Python and C. Scores are computed on this deployed form.

sklearn compares ``x <= threshold`` with float32 ``x`` and a float64 threshold; we
store the largest float32 not above the threshold, which gives the same decision for
every float32 ``x``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from ..codegen.c import c_array, smallest_int_type
from ..features import CoreCosts
from ._base import DeployedModel, ModelCost, ModelFamily

LEAF_SCALE = 255


def _float32_floor(t: np.ndarray) -> np.ndarray:
    """Largest float32 value ≤ each float64 threshold."""
    f = t.astype(np.float32)
    too_big = f.astype(np.float64) > t
    f[too_big] = np.nextafter(f[too_big], np.float32(-np.inf))
    return f


@dataclass(frozen=True)
class TreeEnsemble(DeployedModel):
    """Flat arrays for one or more trees; see the module docstring."""

    feature: np.ndarray  # int (nodes,)
    threshold: np.ndarray  # float32 (nodes,)
    left: np.ndarray  # int (nodes,)
    right: np.ndarray  # int (nodes,)
    roots: np.ndarray  # int (trees,): node index, or a leaf code if the tree is one leaf
    leaves: np.ndarray  # uint8 (leaves, classes) for soft voting; (leaves,) class for hard
    n_classes: int
    n_features: int
    voting: str  # "soft" | "hard"

    @classmethod
    def from_sklearn(
        cls, trees: list[tuple[Any, np.ndarray]], n_classes: int, n_features: int, voting: str
    ) -> TreeEnsemble:
        """Flatten fitted sklearn trees; each comes with the class index of its columns."""
        feats, thrs, lefts, rights, roots, leaves = [], [], [], [], [], []
        n_nodes = 0
        n_leaves = 0
        for tree, tree_classes in trees:
            t = tree.tree_
            is_leaf = t.children_left < 0
            internal = np.flatnonzero(~is_leaf)
            leaf_ids = np.flatnonzero(is_leaf)
            node_map = {int(i): n_nodes + k for k, i in enumerate(internal)}
            leaf_map = {int(i): n_leaves + k for k, i in enumerate(leaf_ids)}

            def code(
                i: int, node_map: dict[int, int] = node_map, leaf_map: dict[int, int] = leaf_map
            ) -> int:
                return node_map[i] if i in node_map else -(leaf_map[i] + 1)

            for i in internal:
                feats.append(int(t.feature[i]))
                thrs.append(float(t.threshold[i]))
                lefts.append(code(int(t.children_left[i])))
                rights.append(code(int(t.children_right[i])))
            roots.append(code(0))
            value = t.value[leaf_ids, 0, :]  # (leaves, tree classes)
            full = np.zeros((len(leaf_ids), n_classes))
            full[:, tree_classes.astype(int)] = value
            share = full / full.sum(axis=1, keepdims=True)
            if voting == "soft":
                leaves.append(np.rint(share * LEAF_SCALE).astype(np.uint8))
            else:
                leaves.append(np.argmax(share, axis=1).astype(np.uint8))
            n_nodes += len(internal)
            n_leaves += len(leaf_ids)
        return cls(
            feature=np.asarray(feats, dtype=np.int64),
            threshold=_float32_floor(np.asarray(thrs, dtype=np.float64)),
            left=np.asarray(lefts, dtype=np.int64),
            right=np.asarray(rights, dtype=np.int64),
            roots=np.asarray(roots, dtype=np.int64),
            leaves=np.concatenate(leaves),
            n_classes=n_classes,
            n_features=n_features,
            voting=voting,
        )

    @property
    def n_trees(self) -> int:
        return len(self.roots)

    @property
    def n_nodes(self) -> int:
        return len(self.feature)

    @property
    def n_leaves(self) -> int:
        return len(self.leaves)

    def leaf_index(self, x: np.ndarray) -> np.ndarray:
        """(n, trees) leaf reached in each tree."""
        x = np.asarray(x, dtype=np.float32)
        rows = np.arange(len(x))
        out = np.empty((len(x), self.n_trees), dtype=np.int64)
        for k, root in enumerate(self.roots):
            node = np.full(len(x), root, dtype=np.int64)
            active = node >= 0
            while active.any():
                idx = node[active]
                go_left = x[rows[active], self.feature[idx]] <= self.threshold[idx]
                node[active] = np.where(go_left, self.left[idx], self.right[idx])
                active = node >= 0
            out[:, k] = -node - 1
        return out

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

    def _types(self) -> dict[str, str]:
        return {
            "feature": smallest_int_type(0, max(self.n_features - 1, 0)),
            "child": smallest_int_type(-self.n_leaves, max(self.n_nodes - 1, 0)),
            "score": "uint16_t" if self.n_trees * LEAF_SCALE < 65536 else "uint32_t",
        }

    def emit_c(self, prefix: str) -> str:
        ty = self._types()
        p = prefix
        parts = [
            f"/* {self.n_trees} tree(s), {self.n_nodes} decision nodes, {self.n_leaves} leaves, "
            f"{self.voting} voting. */",
            f"#define {p.upper()}_N_TREES {self.n_trees}",
        ]
        if self.n_nodes:
            parts += [
                c_array(f"{p}_node_feature", ty["feature"], self.feature.tolist()),
                c_array(f"{p}_node_threshold", "float", self.threshold.tolist()),
                c_array(f"{p}_node_left", ty["child"], self.left.tolist()),
                c_array(f"{p}_node_right", ty["child"], self.right.tolist()),
            ]
        parts.append(c_array(f"{p}_tree_root", ty["child"], self.roots.tolist()))
        if self.voting == "soft":
            parts.append(
                c_array(f"{p}_leaf_share", "uint8_t", self.leaves.tolist(), inner=self.n_classes)
            )
        else:
            parts.append(c_array(f"{p}_leaf_class", "uint8_t", self.leaves.tolist()))
        walk = [
            f"        {ty['child']} n = {p}_tree_root[t];",
        ]
        if self.n_nodes:
            walk += [
                "        while (n >= 0) {",
                f"            n = (f[{p}_node_feature[n]] <= {p}_node_threshold[n])",
                f"                ? {p}_node_left[n] : {p}_node_right[n];",
                "        }",
            ]
        if self.voting == "soft":
            walk += [
                "        {",
                f"            const uint8_t *share = {p}_leaf_share[-(n + 1)];",
                "            int k;",
                f"            for (k = 0; k < {self.n_classes}; ++k) {{",
                f"                score[k] = ({ty['score']})(score[k] + share[k]);",
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
                    f"    {ty['score']} score[{self.n_classes}] = {{0}};",
                    "    int t, c, best = 0;",
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
        sizes = {
            "int8_t": 1,
            "uint8_t": 1,
            "int16_t": 2,
            "uint16_t": 2,
            "int32_t": 4,
            "uint32_t": 4,
        }
        ty = self._types()
        node_bytes = sizes[ty["feature"]] + 4 + 2 * sizes[ty["child"]]
        leaf_bytes = self.n_classes if self.voting == "soft" else 1
        data = (
            self.n_nodes * node_bytes
            + self.n_leaves * leaf_bytes
            + self.n_trees * sizes[ty["child"]]
        )
        code = 120 + (40 if self.voting == "soft" else 0)
        depth = self._mean_depth()
        instructions = int(
            self.n_trees
            * (
                depth * (8 + core.float_op)
                + 6
                + (4 * self.n_classes if self.voting == "soft" else 4)
            )
            + 5 * self.n_classes
        )
        sram = 24 + self.n_classes * sizes[ty["score"]]
        params = self.n_nodes * 2 + self.leaves.size
        return ModelCost(data + code, sram, instructions, params)

    def _mean_depth(self) -> float:
        """Mean number of decisions from root to leaf, over trees (unweighted leaves)."""
        if self.n_nodes == 0:
            return 0.0
        depth = np.zeros(self.n_nodes, dtype=np.int64)
        total, count = 0, 0
        stack = [(int(r), 0) for r in self.roots]
        while stack:
            n, d = stack.pop()
            if n < 0:
                total += d
                count += 1
                continue
            depth[n] = d
            stack.append((int(self.left[n]), d + 1))
            stack.append((int(self.right[n]), d + 1))
        return total / max(count, 1)

    def describe(self) -> dict[str, Any]:
        return {
            "trees": self.n_trees,
            "nodes": self.n_nodes,
            "leaves": self.n_leaves,
            "voting": self.voting,
            "mean_depth": round(self._mean_depth(), 2),
        }


class DecisionTreeFamily(ModelFamily):
    """One CART tree (hard vote of its leaf)."""

    name = "decision_tree"

    def fit(
        self, x: np.ndarray, y: np.ndarray, n_classes: int, params: dict[str, Any], seed: int
    ) -> DeployedModel:
        tree = DecisionTreeClassifier(
            max_depth=int(params.get("max_depth", 6)),
            min_samples_leaf=int(params.get("min_samples_leaf", 1)),
            random_state=seed,
        ).fit(x, y)
        return TreeEnsemble.from_sklearn([(tree, tree.classes_)], n_classes, x.shape[1], "hard")


class RandomForestFamily(ModelFamily):
    """Bagged trees on random feature subsets; soft (quantised shares) or hard voting."""

    name = "random_forest"

    def fit(
        self, x: np.ndarray, y: np.ndarray, n_classes: int, params: dict[str, Any], seed: int
    ) -> DeployedModel:
        forest = RandomForestClassifier(
            n_estimators=int(params.get("n_estimators", 10)),
            max_depth=int(params.get("max_depth", 6)),
            min_samples_leaf=int(params.get("min_samples_leaf", 1)),
            random_state=seed,
            n_jobs=1,
        ).fit(x, y)
        # sub-trees number their columns 0..k-1 over the forest's classes_
        trees = [(t, forest.classes_[t.classes_.astype(int)]) for t in forest.estimators_]
        return TreeEnsemble.from_sklearn(
            trees, n_classes, x.shape[1], str(params.get("voting", "soft"))
        )
