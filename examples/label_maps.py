"""
Label maps compared
===================

V2S turns the frozen model's 35 source words into class probabilities by
averaging the probabilities of the words assigned to each class. How the words
are assigned is ``label_mapping`` (:mod:`v2s_sklearn.label_mapping`):

- ``"random"``: a random many-to-one assignment (the paper);
- ``"frequency"``: greedily, the words the frozen model already predicts most for
  each class on the training series (Tsai et al., 2020);
- ``"ot"`` (the default): the assignment of largest total such affinity, solved
  exactly as optimal transport.

Each is fitted here on GunPoint with the same seed and 10 epochs; the estimator's
defaults train longer (``docs/estimator.md`` compares the maps on 12 datasets).
"""

import time

import matplotlib.pyplot as plt

from v2s_sklearn import V2SClassifier
from v2s_sklearn.datasets import load_dataset

X_train, y_train = load_dataset("GunPoint", "train")
X_test, y_test = load_dataset("GunPoint", "test")

fitted = {}
for mapping in ("random", "frequency", "ot"):
    started = time.perf_counter()
    clf = V2SClassifier(label_mapping=mapping, max_epochs=10, input_scaling=None,
                        random_state=0).fit(X_train, y_train)
    seconds = time.perf_counter() - started
    fitted[mapping] = clf
    print(f"{mapping:>9}: test accuracy {clf.score(X_test, y_test):.3f}, "
          f"best validation loss {clf.best_loss_:.3f}, fit {seconds:.1f} s")

# %%
# Which words serve which class
# -----------------------------
# ``label_map_`` names the source words of each class; ``labels_per_class="auto"``
# gives each of the 2 classes
# floor(35 / 2) = 17 words.
for mapping, clf in fitted.items():
    print(mapping)
    for cls, words in clf.label_map_.items():
        print(f"  class {cls}: {', '.join(words)}")

# %%
# The maps as applied
# -------------------
# ``label_weights_`` is the matrix that prediction applies: row ``c`` averages the
# probabilities of class ``c``'s words.
fig, axes = plt.subplots(len(fitted), 1, figsize=(9, 1.3 * len(fitted) + 1.2),
                         sharex=True, constrained_layout=True)
for ax, (mapping, clf) in zip(axes, fitted.items()):
    ax.imshow(clf.label_weights_, aspect="auto", cmap="Greys", interpolation="nearest")
    ax.set_yticks(range(len(clf.classes_)), [f"class {c}" for c in clf.classes_])
    ax.set_title(f'label_mapping="{mapping}"', fontsize=9, loc="left")
source = fitted["ot"].source_classes_
axes[-1].set_xticks(range(len(source)), source, rotation=90, fontsize=8)
plt.show()

# %%
# Training curves side by side
# ----------------------------
fig, ax = plt.subplots(figsize=(7, 3.2), constrained_layout=True)
for mapping, clf in fitted.items():
    ax.plot([row["epoch"] for row in clf.history_],
            [row["valid_loss"] for row in clf.history_], marker="o", ms=3, label=mapping)
ax.set_xlabel("epoch")
ax.set_ylabel("validation loss")
ax.legend()
plt.show()
