"""Soft-voting ensembles of V2S classifiers: over seeds or source models.

One V2S fit depends on its seed through the validation split that picks the
kept epoch and the order of the batches; on small training sets that moves
held-out accuracy by several points. Averaging the probabilities of a few
seeds removes much of that variance (:func:`seed_ensemble`). Source models of
different architectures err differently, so averaging them
(:func:`source_ensemble`) removes some of what seeds of one model share.
scikit-learn's :class:`~sklearn.ensemble.VotingClassifier` does that
averaging; this module only builds it. ``docs/estimator.md`` has the TRAIN-only
studies of both.
"""

from __future__ import annotations

import numbers
from typing import Any

from sklearn.ensemble import VotingClassifier

from .acoustic.registry import available_models
from .classifier import V2SClassifier

#: The built-in source models of three architectures (V2Sa, TC-ResNet8, TC-ResNet14).
ARCHITECTURE_MODELS = ("v2sa-synth", "tcresnet8-synth", "tcresnet14-synth")


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


def source_ensemble(acoustic_models: tuple[str, ...] | list[str] = ARCHITECTURE_MODELS, *,
                    random_state: int | None = 0, n_jobs: int | None = None,
                    **params: Any) -> VotingClassifier:
    """A soft-voting ensemble of ``V2SClassifier`` over several source models.

    Every member has the same parameters and seed; only ``acoustic_model``
    differs. Fitting costs the sum of the members' fits (a TC-ResNet fit costs
    about a third of a V2Sa fit on the CPU, ``docs/benchmarks.md``).

    Parameters
    ----------
    acoustic_models : sequence of str, default=ARCHITECTURE_MODELS
        Built-in names or model files, one member each, at least two.
    random_state : int or None, default=0
        The seed of every member.
    n_jobs : int or None, default=None
        Members fitted in parallel (``VotingClassifier``'s).
    **params
        Any other ``V2SClassifier`` parameter, given to every member.

    Returns
    -------
    sklearn.ensemble.VotingClassifier
        Unfitted, ``voting="soft"``; member names are the model names.

    Examples
    --------
    >>> from v2s_sklearn.ensemble import source_ensemble
    >>> clf = source_ensemble(max_epochs=50)
    >>> [name for name, _ in clf.estimators]
    ['v2sa-synth', 'tcresnet8-synth', 'tcresnet14-synth']
    """
    if "acoustic_model" in params:
        raise ValueError("source_ensemble sets acoustic_model per member; pass the models "
                         "as acoustic_models=[...]")
    models = [str(model) for model in acoustic_models]
    if len(models) < 2 or len(set(models)) < len(models):
        raise ValueError(f"acoustic_models needs at least two different models; got {models} "
                         f"(built-in: {available_models()})")
    members = [(model, V2SClassifier(acoustic_model=model, random_state=random_state,
                                     **params)) for model in models]
    return VotingClassifier(members, voting="soft", n_jobs=n_jobs)
