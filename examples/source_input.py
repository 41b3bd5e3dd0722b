"""
What the source model hears: one copy against ten
=================================================

V2S turns each series into one second of audio for a frozen speech-command model by
zero-padding it: a 150-point GunPoint series fills 150 of 16,000 samples, ten copies
of it (``n_segments="auto"``) a tenth of the second.

:func:`~v2s_sklearn.plotting.plot_source_input` draws, for a fitted classifier, the
waveform (the placed series and the trained ``theta``) and the log-mel features the
source model computes from it. Sonifying the series over the whole second instead
(as pitch or loudness) was measured and removed (``docs/estimator.md``).

This run trains each for at most 10 epochs, so that it takes seconds.
"""

# %%
import matplotlib.pyplot as plt

from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset
from v2s_sklearn.plotting import plot_source_input

X_train, y_train = load_dataset("GunPoint", "train")
X_test, y_test = load_dataset("GunPoint", "test")

for n_segments in (1, "auto"):
    clf = V2SClassifier(n_segments=n_segments, max_epochs=10, input_scaling=None,
                        random_state=0).fit(X_train, y_train)
    print(f"n_segments={n_segments!r}: test accuracy {clf.score(X_test, y_test):.3f}")
    plot_source_input(clf, X_train[:2])
plt.show()
