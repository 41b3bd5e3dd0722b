"""Soft-voting ensembles of V2S classifiers that differ only in their seed.

One V2S fit depends on its seed through the validation split that picks the
kept epoch and the order of the batches; on small training sets that moves
held-out accuracy by several points. Averaging the probabilities of a few
seeds removes much of that variance (``docs/estimator.md`` has the TRAIN-only
study). scikit-learn's :class:`~sklearn.ensemble.VotingClassifier` does the
averaging; this module only builds it.
"""

from __future__ import annotations

import numbers
from typing import Any

from sklearn.ensemble import VotingClassifier

from .classifier import V2SClassifier


def seed_ensemble(n_members: int = 3, *, random_state: int | None = 0,
                  n_jobs: int | None = None, **params: Any) -> VotingClassifier:
    """A soft-voting ensemble of ``V2SClassifier`` with seeds ``random_state + i``.

    Parameters
    ----------
    n_members : int, default=3
        How many classifiers; fitting costs that many single fits.
    random_state : int or None, default=0
        Member ``i`` gets ``random_state + i`` (so the first member is
        ``V2SClassifier(random_state=random_state)``); None leaves every member
        unseeded, which makes the ensemble irreproducible.
    n_jobs : int or None, default=None
        Members fitted in parallel (``VotingClassifier``'s). On a small CPU one
        process that uses all cores is faster; several processes can share a GPU.
    **params
        Any other ``V2SClassifier`` parameter, given to every member.

    Returns
    -------
    sklearn.ensemble.VotingClassifier
        Unfitted, ``voting="soft"``: ``predict_proba`` is the members' mean.

    Examples
    --------
    >>> from v2s_sklearn.ensemble import seed_ensemble
    >>> clf = seed_ensemble(3, max_epochs=50)
    >>> [name for name, _ in clf.estimators]
    ['seed0', 'seed1', 'seed2']
    """
    if not isinstance(n_members, numbers.Integral) or isinstance(n_members, bool) \
            or n_members < 1:
        raise ValueError(f"n_members must be a positive integer; got {n_members!r}")
    if random_state is not None and not isinstance(random_state, numbers.Integral):
        raise ValueError("random_state must be an int or None (members get "
                         f"random_state + i); got {random_state!r}")
    members = [(f"seed{i}", V2SClassifier(
        random_state=None if random_state is None else int(random_state) + i, **params))
        for i in range(int(n_members))]
    return VotingClassifier(members, voting="soft", n_jobs=n_jobs)
