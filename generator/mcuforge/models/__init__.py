"""Model families: search space + training + deployed form + cost, keyed by name."""

from ..params import ParamError
from ..registry import Registry
from ._base import DeployedModel, EpochCallback, FamilyParams, ModelCase, ModelCost, ModelFamily
from ._checks import check_labels

MODELS: Registry[ModelFamily] = Registry(
    "model family",
    "mcuforge.models",
    {
        "decision_tree": "mcuforge.models.trees:DecisionTreeFamily",
        "random_forest": "mcuforge.models.trees:RandomForestFamily",
        "extra_trees": "mcuforge.models.trees:ExtraTreesFamily",
        "gradient_boosting": "mcuforge.models.tree_sums:GradientBoostingFamily",
        "decision_tree_regressor": "mcuforge.models.tree_sums:DecisionTreeRegressorFamily",
        "random_forest_regressor": "mcuforge.models.tree_sums:RandomForestRegressorFamily",
        "extra_trees_regressor": "mcuforge.models.tree_sums:ExtraTreesRegressorFamily",
        "gradient_boosting_regressor": "mcuforge.models.tree_sums:GradientBoostingRegressorFamily",
        "isolation_forest": "mcuforge.models.isolation:IsolationForestFamily",
        "logistic_regression": "mcuforge.models.linear:LogisticRegressionFamily",
        "linear_svm": "mcuforge.models.linear:LinearSvmFamily",
        "ridge_classifier": "mcuforge.models.linear:RidgeClassifierFamily",
        "linear_regression": "mcuforge.models.linear:LinearRegressionFamily",
        "gaussian_nb": "mcuforge.models.bayes:GaussianNaiveBayesFamily",
        "knn": "mcuforge.models.knn:KNearestFamily",
        "knn_distance": "mcuforge.models.knn:KnnDistanceFamily",
        "mlp": "mcuforge.models.nets:MlpFamily",
        "mlp_regressor": "mcuforge.models.nets:MlpRegressorFamily",
        "cnn1d": "mcuforge.models.nets:Cnn1dFamily",
        "cnn1d_regressor": "mcuforge.models.nets:Cnn1dRegressorFamily",
        "ds_cnn": "mcuforge.models.nets:DsCnnFamily",
        "autoencoder": "mcuforge.models.nets:AutoencoderFamily",
    },
)

__all__ = [
    "MODELS",
    "DeployedModel",
    "EpochCallback",
    "FamilyParams",
    "ModelCase",
    "ModelCost",
    "ModelFamily",
    "ParamError",
    "check_labels",
]
