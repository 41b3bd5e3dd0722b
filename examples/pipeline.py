"""
A Pipeline evaluated by cross-validation
========================================

:class:`~v2s_sklearn.V2SClassifier` is a scikit-learn estimator, so it goes into
a :class:`~sklearn.pipeline.Pipeline` and through
:func:`~sklearn.model_selection.cross_val_score` like any other. Here each series
is z-normalised on its own (a stateless step) before it is reprogrammed; the
pipeline is scored by 3-fold cross-validation on TRAIN, then refitted on all of
TRAIN and scored once on TEST.

Small settings (10 epochs, no input scaling) keep this to about a minute on a CPU;
``python examples/pipeline.py`` runs the same.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset
from v2s_sklearn.plotting import plot_history


def z_normalise(X):
    """Each series to mean 0 and standard deviation 1, on its own."""
    X = np.asarray(X, dtype=float)
    return (X - X.mean(axis=1, keepdims=True)) / (X.std(axis=1, keepdims=True) + 1e-8)


X_train, y_train = load_dataset("GunPoint", "train")
X_test, y_test = load_dataset("GunPoint", "test")

pipeline = make_pipeline(
    FunctionTransformer(z_normalise),
    V2SClassifier(max_epochs=10, input_scaling=None, random_state=0),
)
print(pipeline)

# %%
# Cross-validation on TRAIN
# -------------------------
# ``n_jobs=2`` fits two folds at once in separate processes; the estimator
# pickles without the acoustic model's weights (a built-in model is reloaded by
# name in each worker).
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
scores = cross_val_score(pipeline, X_train, y_train, cv=cv, n_jobs=2)
print(f"3-fold CV accuracy on TRAIN: {scores.mean():.3f} +/- {scores.std():.3f}")

# %%
# Refit on TRAIN, score TEST
# --------------------------
pipeline.fit(X_train, y_train)
print(f"test accuracy: {pipeline.score(X_test, y_test):.3f}")

# %%
# The fitted V2S step
# -------------------
# The last step of the refitted pipeline is a fitted ``V2SClassifier`` with its
# per-epoch history.
plot_history(pipeline[-1])
plt.show()
