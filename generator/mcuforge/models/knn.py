"""k-nearest neighbours over a capped set of prototypes.

At most ``max_prototypes`` rows are stored, shared among the classes in proportion to
their training rows (at least one each). Per class they are chosen by a seeded
method: ``kmeans`` (k-means centroids on standardised features, ``random_state`` =
seed) or ``random`` (a seeded subsample of the rows).

Distance: ``Σ_j ((x_j - p_j) * s_j)²`` with ``s_j = 1 / std_j`` (float32; ``scaling:
standardize``, the default) or ``s_j = 1`` (``scaling: none``: the plain Euclidean
distance, e.g. 1-NN on the raw window), summed over features in order, each operation
rounded to float32 in Python and C alike, so every distance is bit-exact. The ``k``
nearest prototypes are kept in order of distance; **ties in distance go to the
prototype stored first** (a stable sort in Python, an
insertion that never passes an equal distance in C). Each of the ``k`` votes for its
class; ``out[c]`` is the vote count and the class with the most votes wins, **ties in
votes to the lowest class index**.

For anomaly detection (``knn_distance``) the prototypes are normal windows only and the
score, ``out[0]``, is the distance to the ``k``-th nearest of them (the same float32
sums, squared: no square root, the order is the same): a window unlike every stored
normal one scores high. The threshold is chosen on held-out rows (see :mod:`._anomaly`);
when every other normal row is stored and there is room, the held-out normal rows are
stored too (the score can only fall: no more alarms on normal data than validated).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ..codegen.c import c_array, c_float, smallest_int_type
from ..cost import CoreCosts
from ._anomaly import AnomalyParams, pick_threshold, split_anomaly
from ._base import DeployedModel, EpochCallback, FamilyParams, ModelCost, ModelFamily
from ._checks import check_classes, check_features


def _distances(points: np.ndarray, scale: np.ndarray, features: np.ndarray) -> np.ndarray:
    """float32 (n, prototypes), accumulated feature by feature (as the C does)."""
    x = np.asarray(features, dtype=np.float32)
    acc = np.zeros((len(x), len(points)), dtype=np.float32)
    for j in range(x.shape[1]):
        t = (x[:, j : j + 1] - points[None, :, j]) * scale[j]
        acc = acc + t * t
    return acc


def _nearest_c(p: str, m: int, k_f: int, k: int) -> list[str]:
    """C lines: the ``k`` nearest of ``{p}_proto`` to ``f`` into ``best_d``/``best_i``
    (nearest first; a tie keeps the earlier prototype first), ``filled`` of them."""
    return [
        f"    float best_d[{k}];",
        f"    int best_i[{k}];",
        "    int i, j, filled = 0;",
        f"    for (i = 0; i < {m}; ++i) {{",
        "        float acc = 0.0f;",
        f"        for (j = 0; j < {k_f}; ++j) {{",
        f"            const float t = (f[j] - {p}_proto[i][j]) * {p}_scale[j];",
        "            acc += t * t;",
        "        }",
        f"        if (filled < {k} || acc < best_d[{k} - 1]) {{",
        f"            int pos = filled < {k} ? filled++ : {k} - 1;",
        "            while (pos > 0 && best_d[pos - 1] > acc) {",
        "                best_d[pos] = best_d[pos - 1];",
        "                best_i[pos] = best_i[pos - 1];",
        "                --pos;",
        "            }",
        "            best_d[pos] = acc;",
        "            best_i[pos] = i;",
        "        }",
        "    }",
    ]


def _search_instructions(core: CoreCosts, m: int, k_f: int, k: int) -> int:
    """Instructions of the distance loop and the insertion of the ``k`` nearest."""
    return int(m * (k_f * (6 + 4 * core.float_op) + 10 + core.float_op) + m * k)


@dataclass(frozen=True)
class Prototypes(DeployedModel):
    """Stored prototypes, feature scales and their classes; see the module docstring."""

    points: np.ndarray  # float32 (prototypes, features)
    labels: np.ndarray  # int (prototypes,)
    scale: np.ndarray  # float32 (features,)
    k: int
    n_classes: int

    @property
    def n_outputs(self) -> int:
        return self.n_classes

    def distances(self, features: np.ndarray) -> np.ndarray:
        """float32 (n, prototypes), accumulated feature by feature."""
        return _distances(self.points, self.scale, features)

    def outputs(self, features: np.ndarray) -> np.ndarray:
        d = self.distances(features)
        nearest = np.argsort(d, axis=1, kind="stable")[:, : self.k]
        votes = np.zeros((len(d), self.n_classes), dtype=np.float32)
        for i in range(nearest.shape[1]):
            np.add.at(votes, (np.arange(len(d)), self.labels[nearest[:, i]]), 1.0)
        return votes

    def predict(self, features: np.ndarray) -> np.ndarray:
        best: np.ndarray = np.argmax(self.outputs(features), axis=1)
        return best

    def emit_c(self, prefix: str) -> str:
        p = prefix
        m, k_f = self.points.shape
        k = self.k
        label_t = smallest_int_type(0, max(self.n_classes - 1, 0))
        return "\n\n".join(
            [
                f"/* {k}-nearest neighbours over {m} prototypes x {k_f} features; ties in "
                "distance to the earlier prototype, in votes to the lower class. */",
                c_array(f"{p}_proto", "float", self.points.tolist(), inner=k_f),
                c_array(f"{p}_proto_class", label_t, self.labels.tolist()),
                c_array(f"{p}_scale", "float", self.scale.tolist()),
                "\n".join(
                    [
                        f"static int {p}_infer(const float *f, float *out)",
                        "{",
                        *_nearest_c(p, m, k_f, k),
                        "    int c, best = 0;",
                        f"    for (c = 0; c < {self.n_classes}; ++c) {{ out[c] = 0.0f; }}",
                        "    for (i = 0; i < filled; ++i) {",
                        f"        out[{p}_proto_class[best_i[i]]] += 1.0f;",
                        "    }",
                        f"    for (c = 1; c < {self.n_classes}; ++c) {{",
                        "        if (out[c] > out[best]) { best = c; }",
                        "    }",
                        "    return best;",
                        "}",
                    ]
                ),
            ]
        )

    def cost(self, core: CoreCosts) -> ModelCost:
        m, k_f = self.points.shape
        instructions = _search_instructions(core, m, k_f, self.k)
        flash = 4 * (m * k_f + k_f) + m + 220
        return ModelCost(flash, 48 + 8 * self.k, instructions, m * (k_f + 1))

    def describe(self) -> dict[str, Any]:
        return {"prototypes": len(self.points), "k": self.k, "features": self.points.shape[1]}


def _share(counts: np.ndarray, total: int) -> np.ndarray:
    """Prototypes per class: proportional to ``counts``, at least 1, at most the rows."""
    raw = np.maximum(1, np.floor(counts * total / counts.sum())).astype(np.int64)
    share: np.ndarray = np.minimum(raw, counts)
    return share


def _scales(rows: np.ndarray, scaling: str) -> np.ndarray:
    """Per-feature std of ``rows`` (1 where constant) for ``standardize``, else ones."""
    std = rows.std(axis=0)
    return np.where(std > 0, std, 1.0) if scaling == "standardize" else np.ones_like(std)


def _choose(
    rows: np.ndarray, m: int, method: str, std: np.ndarray, seed: int, rng: np.random.Generator
) -> np.ndarray:
    """``m`` prototypes of ``rows``: a seeded sample (in row order), or k-means centres
    on standardised features (all rows when there are no more than ``m``)."""
    if method == "random" or m >= len(rows):
        chosen: np.ndarray = rows[np.sort(rng.permutation(len(rows))[:m])]
        return chosen
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=int(m), n_init=3, random_state=seed).fit(rows / std)
    centres: np.ndarray = km.cluster_centers_ * std
    return centres


class KnnParams(FamilyParams):
    """k nearest neighbours on stored prototypes."""

    n_neighbors: int = Field(
        default=1, ge=1, description="k: the neighbours that vote (capped at the prototypes)."
    )
    max_prototypes: int = Field(
        default=32, ge=1, description="Most training points stored, shared among the classes."
    )
    prototypes: Literal["kmeans", "random"] = Field(
        default="kmeans", description="k-means centres per class, or a random sample of rows."
    )
    scaling: Literal["standardize", "none"] = Field(
        default="standardize",
        description="Distances on standardised features, or the plain Euclidean distance.",
    )


class KNearestFamily(ModelFamily):
    """k-NN on prototypes; parameters in :class:`KnnParams`."""

    name = "knn"
    Params = KnnParams

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
        assert isinstance(p, KnnParams)
        check_features(x, y)
        present = check_classes(y, n_classes)
        method, scaling = p.prototypes, p.scaling
        x64 = np.asarray(x, dtype=np.float64)
        std = _scales(x64, scaling)
        counts = np.array([(y == c).sum() for c in present])
        per_class = _share(counts, p.max_prototypes)
        rng = np.random.default_rng(seed)
        points, labels = [], []
        for c, m in zip(present, per_class, strict=True):
            chosen = _choose(x64[y == c], int(m), method, std, seed, rng)
            points.append(chosen)
            labels.append(np.full(len(chosen), c, dtype=np.int64))
        pts = np.concatenate(points).astype(np.float32)
        k = min(p.n_neighbors, len(pts))
        return Prototypes(pts, np.concatenate(labels), (1.0 / std).astype(np.float32), k, n_classes)


@dataclass(frozen=True)
class NearestDistance(DeployedModel):
    """Normal prototypes and the alarm threshold; the score is the squared distance to
    the ``k``-th nearest (see the module docstring)."""

    points: np.ndarray  # float32 (prototypes, features): normal rows or their centres
    scale: np.ndarray  # float32 (features,)
    k: int
    threshold: np.float32
    task: str = "anomaly"

    @property
    def n_outputs(self) -> int:
        return 1

    @property
    def anomaly_threshold(self) -> float | None:
        return float(self.threshold)

    def outputs(self, features: np.ndarray) -> np.ndarray:
        d = np.sort(_distances(self.points, self.scale, features), axis=1)
        out: np.ndarray = d[:, self.k - 1 : self.k].astype(np.float32)
        return out

    def predict(self, features: np.ndarray) -> np.ndarray:
        flags: np.ndarray = (self.outputs(features)[:, 0] > self.threshold).astype(np.int64)
        return flags

    def emit_c(self, prefix: str) -> str:
        p = prefix
        m, k_f = self.points.shape
        return "\n\n".join(
            [
                f"/* anomaly score: squared distance to the {self.k}-th nearest of {m} normal "
                f"prototypes x {k_f} features; an anomaly above the threshold. */",
                c_array(f"{p}_proto", "float", self.points.tolist(), inner=k_f),
                c_array(f"{p}_scale", "float", self.scale.tolist()),
                "\n".join(
                    [
                        f"static int {p}_infer(const float *f, float *out)",
                        "{",
                        *_nearest_c(p, m, k_f, self.k),
                        "    (void)best_i;",
                        f"    out[0] = best_d[{self.k} - 1];",
                        f"    return out[0] > {c_float(float(self.threshold))} ? 1 : 0;",
                        "}",
                    ]
                ),
            ]
        )

    def cost(self, core: CoreCosts) -> ModelCost:
        m, k_f = self.points.shape
        instructions = _search_instructions(core, m, k_f, self.k) + 10
        flash = 4 * (m * k_f + k_f) + 200
        return ModelCost(flash, 48 + 8 * self.k, instructions, m * k_f)

    def describe(self) -> dict[str, Any]:
        return {"prototypes": len(self.points), "k": self.k, "features": self.points.shape[1]}


class KnnDistanceParams(AnomalyParams):
    """Distance to the nearest stored normal windows (anomaly detection)."""

    n_neighbors: int = Field(
        default=1, ge=1, description="k: the score is the distance to the k-th nearest."
    )
    max_prototypes: int = Field(default=64, ge=1, description="Most normal training points stored.")
    prototypes: Literal["kmeans", "random"] = Field(
        default="random",
        description="A seeded sample of the normal rows, or k-means centres of them.",
    )
    scaling: Literal["standardize", "none"] = Field(
        default="none",
        description="Distances on standardised features, or the plain Euclidean distance.",
    )


class KnnDistanceFamily(ModelFamily):
    """Anomaly score = distance to the nearest normal prototypes; parameters in
    :class:`KnnDistanceParams`."""

    name = "knn_distance"
    task = "anomaly"
    size_param = "max_prototypes"
    Params = KnnDistanceParams

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
        assert isinstance(p, KnnDistanceParams)
        split = split_anomaly(x, y, p.validation, seed)
        rows = np.asarray(split.fit_x, dtype=np.float64)
        std = _scales(rows, p.scaling)
        m = min(p.max_prototypes, len(rows))
        chosen = _choose(rows, m, p.prototypes, std, seed, np.random.default_rng(seed))
        points = chosen.astype(np.float32)
        scale = (1.0 / std).astype(np.float32)
        k = min(p.n_neighbors, len(points))
        model = NearestDistance(points, scale, k, np.float32(0.0))
        scores = model.outputs(split.val_x)[:, 0]
        threshold = pick_threshold(scores, split.val_y, p.quantile)
        # every fit row stored and room left: the held-out normal rows join them. The
        # k-th nearest of more points is never farther, so a normal window raises an
        # alarm no more often than on the model the threshold was chosen for, and the
        # stored normal variety is all there is (GunPoint: 18 of 24 normal windows)
        room = p.max_prototypes - len(points)
        if len(points) == len(rows) and room > 0:
            held = split.val_x[split.val_y == 0][:room].astype(np.float32)
            model = replace(model, points=np.concatenate([points, held]))
        return replace(model, threshold=threshold)
