"""
Quickstart: fit GunPoint and look at the training curves
========================================================

Fit :class:`~v2s_sklearn.V2SClassifier` on the official TRAIN split of GunPoint
(the copy that sktime ships, nothing is downloaded), score TEST, and draw the
per-epoch loss and accuracy with :func:`~v2s_sklearn.plotting.plot_history`.

This run trains for at most 20 epochs so that it takes seconds; the estimator's
default is 100 (``python examples/quickstart.py`` runs the same).
"""

# %%
# Load the data
# -------------
# :func:`~v2s_sklearn.datasets.load_dataset` returns a 2-D array
# ``(n_series, n_timepoints)`` for univariate data and the labels as strings.
import time

import matplotlib.pyplot as plt

from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset
from v2s_sklearn.plotting import plot_history

X_train, y_train = load_dataset("GunPoint", "train")
X_test, y_test = load_dataset("GunPoint", "test")
print(f"TRAIN {X_train.shape}, TEST {X_test.shape}, classes {sorted(set(y_train.tolist()))}")

# %%
# Fit
# ---
# Only the additive signal ``theta`` is trained; the speech-command model stays
# frozen. The kept epoch is the one of lowest loss on a stratified validation
# split of TRAIN (``validation_fraction=0.1``). ``input_scaling="auto"`` (the
# default) fits twice, without and with per-time-point standardisation, and keeps
# the fit of lower validation loss.
clf = V2SClassifier(max_epochs=20, random_state=0)
started = time.perf_counter()
clf.fit(X_train, y_train)
print(f"fit in {time.perf_counter() - started:.1f} s; kept epoch {clf.best_epoch_} "
      f"of {clf.n_iter_}, input scaling {clf.input_scaling_!r}")
print(f"test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# What was learned
# ----------------
# ``label_map_`` names the source words that serve each class (chosen before
# training by optimal transport on the frozen model's predictions), and
# ``predict_proba`` answers in ``classes_`` order.
for cls, words in clf.label_map_.items():
    print(f"class {cls}: {', '.join(words)}")
print(clf.classes_, clf.predict_proba(X_test[:3]).round(3))

# %%
# Training curves
# ---------------
# ``history_`` holds one row per epoch; the dotted line marks the kept epoch.
figure = plot_history(clf)
figure.suptitle("GunPoint")
plt.show()
