"""V2S in a scikit-learn Pipeline, evaluated by cross-validation on TRAIN, then on TEST.

Each series is z-normalised on its own (a stateless step), then reprogrammed.

    python examples/pipeline.py
"""

import numpy as np
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset


def z_normalise(X):
    X = np.asarray(X, dtype=float)
    return (X - X.mean(axis=1, keepdims=True)) / (X.std(axis=1, keepdims=True) + 1e-8)


X_train, y_train = load_dataset("GunPoint", "train")
X_test, y_test = load_dataset("GunPoint", "test")

pipeline = make_pipeline(FunctionTransformer(z_normalise),
                         V2SClassifier(max_epochs=30, random_state=0))
scores = cross_val_score(pipeline, X_train, y_train, cv=5, n_jobs=2)
print(f"5-fold CV accuracy on TRAIN: {scores.mean():.3f} +/- {scores.std():.3f}")
pipeline.fit(X_train, y_train)
print(f"test accuracy: {pipeline.score(X_test, y_test):.4f}")
