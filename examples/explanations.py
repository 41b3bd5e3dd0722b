"""
Explaining predictions: saliency and attention
==============================================

Which parts of a series drive a V2S prediction? :mod:`v2s_sklearn.explain` maps
two views back onto the series, in its shape:

- :func:`~v2s_sklearn.explain.saliency`: the gradient of the log-probability of a
  class with respect to every value of the series (summed over its copies in the
  source input), optionally times the input;
- :func:`~v2s_sklearn.explain.attention`: for a source model with an attention
  layer (the built-in V2Sa), the attention of the spectrogram frames that each value
  falls in: the paper's Fig. 4 view.

:func:`~v2s_sklearn.plotting.plot_explanation` draws either over the series.
A short fit (15 epochs) on GunPoint is explained here.
"""

import matplotlib.pyplot as plt
import numpy as np

from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset
from v2s_sklearn.explain import attention, saliency
from v2s_sklearn.plotting import plot_explanation

X_train, y_train = load_dataset("GunPoint", "train")
X_test, y_test = load_dataset("GunPoint", "test")
# The attention-RNN source model: attention is a view of its attention layer (the
# default, TC-ResNet8, has none; saliency works with any source model).
clf = V2SClassifier(acoustic_model="v2sa-synth", max_epochs=15, input_scaling=None,
                    random_state=0).fit(X_train, y_train)
print(f"test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# Saliency
# --------
# One value per time point, shaped like ``X``. Without ``target`` each series'
# predicted class is explained; ``times_input=True`` gives gradient x input.
grad = saliency(clf, X_test[:4])
print("saliency:", grad.shape, "largest |gradient| at time points",
      np.abs(grad).argmax(axis=1))

plot_explanation(clf, X_test[:4], kind="saliency")
plt.show()

# %%
# Explaining another class
# ------------------------
# ``target`` asks why a series would be (or is not) of a given class: here the
# gradient toward class ``"2"`` for every series, averaged over each true class.
toward_2 = saliency(clf, X_test, target="2", times_input=True)
fig, ax = plt.subplots(figsize=(8, 3), constrained_layout=True)
for cls in clf.classes_:
    ax.plot(toward_2[y_test == cls].mean(axis=0), label=f"true class {cls}")
ax.axhline(0, color="0.5", lw=0.8)
ax.set_xlabel("time point")
ax.set_ylabel("gradient x input toward class 2")
ax.legend()
plt.show()

# %%
# Attention
# ---------
# The share of the source model's attention that falls on each value (summed over
# the copies of the series); the weights of a series add up to at most 1.
weights = attention(clf, X_test[:4])
print("attention:", weights.shape, "total per series", weights.sum(axis=1).round(3))

plot_explanation(clf, X_test[:4], kind="attention")
plt.show()
