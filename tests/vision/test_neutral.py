"""The neutral-reference rule (arfilter/vision/neutral.py): pure NumPy, no model, no data."""

from __future__ import annotations

import numpy as np
import pytest

from arfilter.vision.neutral import NeutralOptions, NeutralReference, apply

LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
RESTING_SAD = [0.05, 0.01, 0.04, 0.02, 0.60, 0.25, 0.03]  # a person whose calm face reads a little sad


def reference(probabilities=RESTING_SAD) -> NeutralReference:
    return NeutralReference.from_probs(np.asarray(probabilities), LABELS)


def test_without_a_reference_the_probabilities_pass_through_unchanged():
    probabilities = np.asarray(RESTING_SAD, np.float32)
    assert apply(probabilities, None) is probabilities


def test_the_reference_face_itself_reads_neutral_with_score_one():
    scores = apply(np.asarray(RESTING_SAD), reference())
    assert scores.argmax() == LABELS.index("neutral") and scores[LABELS.index("neutral")] == pytest.approx(1.0)


def test_a_rise_under_the_threshold_stays_neutral_and_over_it_wins():
    options = NeutralOptions(threshold=0.75)  # nats: about 2.1 times as likely
    small = np.asarray([0.10, 0.01, 0.04, 0.02, 0.55, 0.25, 0.03])  # angry x2 (0.69 nats)
    large = np.asarray([0.25, 0.01, 0.04, 0.02, 0.45, 0.20, 0.03])  # angry x5 (1.61 nats), still under neutral and sad
    assert LABELS[apply(small, reference(), options).argmax()] == "neutral"
    assert LABELS[apply(large, reference(), options).argmax()] == "angry"


def test_the_class_that_rose_most_wins_not_the_most_probable():
    face = np.asarray([0.02, 0.01, 0.08, 0.02, 0.10, 0.74, 0.03])  # sad x3.0 (1.09 nats), fear x2 (0.69)
    assert LABELS[apply(face, reference()).argmax()] == "sad"
    face = np.asarray([0.02, 0.01, 0.34, 0.02, 0.20, 0.38, 0.03])  # sad x1.5, fear x8.5: fear, though sad is higher
    assert LABELS[apply(face, reference()).argmax()] == "fear"


def test_a_rise_is_measured_as_a_factor_so_a_faint_posed_expression_counts():
    """Fear from 0.5% to 5% is a small step in probability but ten times as likely: it beats neutral."""
    calm = [0.02, 0.01, 0.005, 0.02, 0.85, 0.09, 0.005]
    posed_fear = np.asarray([0.02, 0.01, 0.05, 0.02, 0.80, 0.09, 0.01])
    assert LABELS[apply(posed_fear, reference(calm)).argmax()] == "fear"


def test_scores_are_a_distribution_for_a_batch_and_keep_the_shape_and_dtype():
    faces = np.random.default_rng(0).dirichlet(np.ones(len(LABELS)), size=5).astype(np.float32)
    scores = apply(faces, reference())
    assert scores.shape == faces.shape and scores.dtype == np.float32
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)
    assert (scores >= 0).all()


def test_a_reference_from_several_photos_is_their_mean():
    photos = np.asarray([RESTING_SAD, [0.05, 0.01, 0.04, 0.02, 0.80, 0.05, 0.03]])
    assert NeutralReference.from_probs(photos, LABELS).probabilities == pytest.approx(tuple(photos.mean(axis=0)))


@pytest.mark.parametrize("bad", [[0.5, 0.5], [[np.nan] * 7], np.zeros((0, 7))])
def test_a_reference_of_the_wrong_shape_or_not_finite_is_refused(bad):
    with pytest.raises(ValueError):
        NeutralReference.from_probs(np.asarray(bad, np.float64), LABELS)


def test_mismatched_classes_and_missing_neutral_are_refused():
    with pytest.raises(ValueError, match="classes"):
        apply(np.ones(5) / 5, reference())
    with pytest.raises(ValueError, match="neutral"):
        apply(np.ones(7) / 7, NeutralReference.from_probs(np.ones(7) / 7, tuple("abcdefg")))


@pytest.mark.parametrize("threshold", [0.0, -0.1, 10.5])
def test_the_threshold_must_be_positive_and_at_most_ten_nats(threshold):
    with pytest.raises(ValueError, match="threshold"):
        NeutralOptions(threshold=threshold)


def test_options_come_from_the_metadata_table_or_default():
    assert NeutralOptions.from_metadata({"neutral_reference": {"log_threshold": 0.9}}).threshold == 0.9
    assert NeutralOptions.from_metadata({}) == NeutralOptions()
