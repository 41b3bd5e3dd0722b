"""v2s-sklearn: time-series classification by reprogramming a frozen acoustic model.

Voice2Series (Yang, Tsai and Chen, ICML 2021) as a scikit-learn estimator::

    from v2s_sklearn import V2SClassifier
    clf = V2SClassifier().fit(X_train, y_train)
    clf.score(X_test, y_test)
"""

from ._version import __version__
from .acoustic.registry import available_models, load_acoustic_model
from .classifier import V2SClassifier

__all__ = ["V2SClassifier", "available_models", "load_acoustic_model", "__version__"]


def __getattr__(name: str):
    # The sktime adapter is imported on first use, so that ``import v2s_sklearn``
    # does not import sktime; its public path is ``v2s_sklearn.sktime``.
    if name == "V2STimeSeriesClassifier":
        from .sktime import V2STimeSeriesClassifier

        return V2STimeSeriesClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "V2STimeSeriesClassifier"])
