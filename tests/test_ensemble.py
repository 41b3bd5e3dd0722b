"""seed_ensemble and source_ensemble: soft-voting VotingClassifiers of V2SClassifiers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import VotingClassifier

from v2s_sklearn import V2SClassifier
from v2s_sklearn.ensemble import seed_ensemble, source_ensemble

from .conftest import FAST

SMALL = {k: v for k, v in FAST.items() if k != "random_state"}


def test_members_differ_only_in_their_seed():
    clf = seed_ensemble(3, random_state=5, max_epochs=7)
    assert isinstance(clf, VotingClassifier) and clf.voting == "soft"
    assert [name for name, _ in clf.estimators] == ["seed0", "seed1", "seed2"]
    assert [m.random_state for _, m in clf.estimators] == [5, 6, 7]
    assert all(isinstance(m, V2SClassifier) and m.max_epochs == 7 for _, m in clf.estimators)
    assert [m.random_state for _, m in seed_ensemble(2, random_state=None).estimators] == \
        [None, None]


def test_the_ensemble_averages_its_members_probabilities(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    clf = seed_ensemble(2, random_state=0, **SMALL).fit(X_train, y_train)
    members = clf.estimators_
    assert members[0].theta_.shape == members[1].theta_.shape
    assert not np.allclose(members[0].theta_, members[1].theta_)  # the seeds differ
    expected = np.mean([m.predict_proba(X_test) for m in members], axis=0)
    np.testing.assert_allclose(clf.predict_proba(X_test), expected, rtol=1e-6)
    # The first member is the single classifier with the ensemble's seed.
    single = V2SClassifier(random_state=0, **SMALL).fit(X_train, y_train)
    np.testing.assert_array_equal(members[0].theta_, single.theta_)
    assert set(clf.predict(X_test)) <= set(y_train)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_a_bad_member_count_is_refused(bad):
    with pytest.raises(ValueError, match="n_members"):
        seed_ensemble(bad)


def test_a_random_state_that_cannot_be_offset_is_refused():
    with pytest.raises(ValueError, match="random_state"):
        seed_ensemble(2, random_state=np.random.RandomState(0))


def test_a_source_ensemble_averages_models_of_different_architectures(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    clf = source_ensemble(["v2sa-synth", "tcresnet8-synth"], **SMALL, random_state=3)
    clf.fit(X_train, y_train)
    members = clf.named_estimators_
    assert [m.acoustic_model_ for m in clf.estimators_] == ["v2sa-synth", "tcresnet8-synth"]
    assert {m.random_state for m in clf.estimators_} == {3}
    expected = np.mean([m.predict_proba(X_test) for m in clf.estimators_], axis=0)
    np.testing.assert_allclose(clf.predict_proba(X_test), expected, rtol=1e-6)
    alone = V2SClassifier(acoustic_model="tcresnet8-synth", random_state=3, **SMALL)
    np.testing.assert_array_equal(members["tcresnet8-synth"].theta_,
                                  alone.fit(X_train, y_train).theta_)


@pytest.mark.parametrize("models, match", [
    (["v2sa-synth"], "at least two"),
    (["v2sa-synth", "v2sa-synth"], "at least two different"),
])
def test_a_source_ensemble_needs_two_different_models(models, match):
    with pytest.raises(ValueError, match=match):
        source_ensemble(models)


def test_a_source_ensemble_refuses_one_acoustic_model_for_all():
    with pytest.raises(ValueError, match="acoustic_models="):
        source_ensemble(acoustic_model="v2sa-synth")
