"""Diagnostics: histograms, saturation, gradient flow and update sizes checked on networks whose
weights are set by hand (so which unit saturates is known), every branch of the plain readings, the
output-layer explanation under both losses, and the tracker's storage."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from studio.core.digit_folders import load_dataset
from studio.core.diagnostics import (DEFAULT_BINS, Diagnosis, LayerEdges, LayerReading, clipped_histogram, diagnose,
                                     diagnostic_sample, gradient_norms, histogram_edges, nice_ceiling,
                                     saturated_mask, update_ratios)
from studio.core.diagnostics_text import format_number, layer_sentence, plain_reading
from studio.core.diagnostics_tracker import SERIES, DiagnosticsTracker
from studio.core.output_delta import output_delta_explanation
from studio.core.network import Network, one_hot, sigmoid
from studio.core.training import PRESETS
from tests.conftest import DIGITS, require_shared
from tests.helpers import tiny_split

X = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], dtype=float)
LABELS = np.array([0, 1, 0, 1])
# Hidden units, by design:
#   0: bias 10, no weights -> a = sigmoid(10) > 0.98 on every sample: a saturated (and constant) unit
#   1: nothing             -> a = 0.5 on every sample: constant, not saturated
#   2: weights 10, -10, 0  -> z = 10, -10, 0, 0: saturated on half the samples
#   3: weights 1, 1, 1, bias -1.5 -> z = -0.5 (x3), 1.5: never saturated
W1 = np.array([[0, 0, 0], [0, 0, 0], [10, -10, 0], [1, 1, 1]], dtype=float)
B1 = np.array([10, 0, 0, -1.5])
W2 = np.array([[0.5, -0.3, 0.2, 0.1], [-0.4, 0.6, -0.1, 0.3]])
B2 = np.array([0.1, -0.2])


def hand_network(activation: str = "sigmoid", loss: str = "sse") -> Network:
    return Network((3, 4, 2), [W1, W2], [B1, B2], activation=activation, loss=loss)


# --------------------------------------------------------------------------------------------------
# Histograms and saturation on the hand-made network
# --------------------------------------------------------------------------------------------------

def test_histograms_count_the_known_values_in_their_bins() -> None:
    reading = diagnose(hand_network(), X, LABELS).layers[0]
    # z: max |z| is 10, so the edges span +-nice_ceiling(15) = +-20 in 40 bins of width 1.
    np.testing.assert_array_equal(reading.z_edges, np.linspace(-20, 20, 41))
    expected_z = np.zeros(40, dtype=int)
    expected_z[30] = 5     # z = 10: unit 0 four times, unit 2 once
    expected_z[20] = 6     # z = 0: unit 1 four times, unit 2 twice
    expected_z[10] = 1     # z = -10: unit 2
    expected_z[19] = 3     # z = -0.5: unit 3
    expected_z[21] = 1     # z = 1.5: unit 3
    np.testing.assert_array_equal(reading.z_counts, expected_z)
    # a: sigmoid outputs on [0, 1].
    np.testing.assert_array_equal(reading.a_edges, np.linspace(0, 1, 41))
    expected_a = np.zeros(40, dtype=int)
    expected_a[39] = 5     # sigmoid(10) = 0.99995
    expected_a[20] = 6     # 0.5
    expected_a[0] = 1      # sigmoid(-10)
    expected_a[int(sigmoid(np.array(-0.5)) * 40)] = 3
    expected_a[int(sigmoid(np.array(1.5)) * 40)] = 1
    np.testing.assert_array_equal(reading.a_counts, expected_a)
    assert reading.a_counts.sum() == reading.samples * reading.units == 16


@pytest.mark.parametrize("activation, share, units", [
    ("sigmoid", 6 / 16, 1),     # unit 0 on all 4 samples, unit 2 on 2: 6 of 16; one unit on >= 95 %
    ("tanh", 6 / 16, 1),        # the same pairs have |tanh| > 0.96
    ("relu", 10 / 16, 1),       # not firing: unit 1 four times, unit 2 and 3 three times; unit 1 dead
])
def test_saturation_shares_of_the_hand_made_units(activation: str, share: float, units: int) -> None:
    first, output = diagnose(hand_network(activation), X, LABELS).layers
    assert first.function == activation and not first.is_output
    assert first.saturated_share == pytest.approx(share)
    assert first.saturated_units == units and first.saturated_units_share == units / 4
    assert first.constant_units == 2          # units 0 and 1 never vary
    # The output layer (sigmoid, squared error) measured the same way, computed here directly.
    a = hand_network(activation).forward(X).output
    assert output.is_output and output.function == "sigmoid"
    assert output.saturated_share == pytest.approx(np.mean((a < 0.02) | (a > 0.98)))


def test_relu_edges_and_a_softmax_output_without_saturation_measure() -> None:
    first, output = diagnose(hand_network("relu", "ce"), X, LABELS).layers
    np.testing.assert_array_equal(first.a_edges, np.linspace(0, 20, 41))   # 0 .. nice(1.5 * 10)
    assert first.a_counts[0] == 10            # the ten zeros
    assert output.function == "softmax" and output.saturated_share is None
    assert output.saturated_units is None and output.saturated_units_share is None
    with pytest.raises(ValueError):
        saturated_mask("swish", np.zeros((1, 1)))


def test_values_beyond_the_fixed_edges_land_in_the_end_bins() -> None:
    edges = np.linspace(-1, 1, 5)
    counts = clipped_histogram(np.array([-50.0, -1.0, 0.1, 0.99, 1.0, 7.0, np.nan]), edges)
    np.testing.assert_array_equal(counts, [2, 0, 1, 3])


def test_gradient_norms_are_those_of_backward_and_update_ratios_follow_the_formula() -> None:
    network = hand_network()
    y = one_hot(LABELS, 2)
    expected = [np.linalg.norm(g) for g in network.backward(X, y).weights]
    assert gradient_norms(network, X, y) == pytest.approx(expected)
    assert [r.gradient_norm for r in diagnose(network, X, LABELS).layers] == pytest.approx(expected)
    assert update_ratios([np.array([[3.0, 4.0]])], [np.array([[3.0, 5.0]])]) == [pytest.approx(0.2)]
    assert update_ratios([np.zeros((2, 2))], [np.ones((2, 2))]) == [math.inf]
    assert update_ratios([np.zeros((2, 2))], [np.zeros((2, 2))]) == [0.0]
    with pytest.raises(ValueError):
        update_ratios([np.zeros(2)], [np.zeros(3)])
    before = network.copy()
    network.weights[1] *= 1.5
    readings = diagnose(network, X, LABELS, before=before).layers
    assert readings[0].update_ratio == 0.0 and readings[1].update_ratio == pytest.approx(0.5)
    assert readings[1].weight_norm == pytest.approx(1.5 * np.linalg.norm(W2))
    assert diagnose(network, X, LABELS, before=before.weights).layers[1].update_ratio == pytest.approx(0.5)
    assert diagnose(network, X, LABELS).layers[1].update_ratio is None


def test_diagnosis_loss_accuracy_and_bad_input() -> None:
    network = hand_network()
    diagnosis = diagnose(network, X, LABELS)
    assert diagnosis.samples == 4
    assert diagnosis.accuracy == np.mean(network.predict(X) == LABELS)
    assert diagnosis.loss == pytest.approx(np.mean(network.loss_per_sample(X, one_hot(LABELS, 2))))
    with pytest.raises(ValueError, match="one label per row"):
        diagnose(network, X, LABELS[:3])
    with pytest.raises(ValueError, match="edge sets"):
        diagnose(network, X, LABELS, edges=histogram_edges(network, X)[:1])


def test_nice_ceiling_and_number_format() -> None:
    assert [nice_ceiling(v) for v in (3.2, 0.07, 15, 1, 2, 5.0001, 1e-7)] == pytest.approx(
        [5, 0.1, 20, 1, 2, 10, 1e-7])
    with pytest.raises(ValueError):
        nice_ceiling(0)
    assert [format_number(v) for v in (0.04, 0.0123, 2e-6, 350.0, 3e12, 0.0, math.inf)] == [
        "0.04", "0.012", "2e-6", "350", "3e12", "0", "inf"]


def test_diagnostic_sample_is_a_seeded_subset_in_split_order() -> None:
    split = tiny_split(10, seed=0)
    x, labels = diagnostic_sample(split, 30, seed=4)
    again, _ = diagnostic_sample(split, 30, seed=4)
    assert x.shape == (30, 1024) and x.dtype == np.float64 and labels.shape == (30,)
    np.testing.assert_array_equal(x, again)
    assert np.all(np.diff(labels) >= 0)           # the split is sorted by label, so is the sample
    assert diagnostic_sample(split, 500)[0].shape == (100, 1024)


# --------------------------------------------------------------------------------------------------
# Plain readings: every branch
# --------------------------------------------------------------------------------------------------

def make(**changes: object) -> LayerReading:
    base = LayerReading(layer=1, function="sigmoid", units=16, samples=100, is_output=False,
                        z_counts=np.zeros(4, dtype=np.int64), z_edges=np.linspace(-1, 1, 5),
                        a_counts=np.zeros(4, dtype=np.int64), a_edges=np.linspace(0, 1, 5),
                        saturated_share=0.03, saturated_units=0, constant_units=0,
                        gradient_norm=0.04, weight_norm=3.0, update_ratio=None)
    return replace(base, **changes)


@pytest.mark.parametrize("changes, accuracy, expected", [
    ({"gradient_norm": math.nan}, None, "layer 1 (sigmoid): its weights or gradients are NaN or infinite: "
                                        "training has diverged"),
    ({"weight_norm": math.inf}, None, "training has diverged"),
    ({}, None, "layer 1 (sigmoid): few outputs saturated (3%); gradients healthy (|g| = 0.04)"),
    ({"saturated_share": 0.97, "saturated_units": 15, "gradient_norm": 2e-6}, None,
     "layer 1 (sigmoid): 97% of outputs saturated (15 of 16 units on nearly every sample); gradients near "
     "zero (|g| = 2e-6): this is why it barely learns"),
    ({"saturated_share": 0.82, "saturated_units": 0}, None,
     "82% of outputs saturated (no unit on nearly every sample); gradients healthy"),
    ({"saturated_share": 0.3}, None, ": 30% of outputs saturated; gradients healthy"),
    ({"saturated_share": 0.998}, None, ">99% of outputs saturated"),
    ({"saturated_share": 0.004}, None, "few outputs saturated (<1%)"),
    ({"function": "relu", "saturated_share": 0.7, "saturated_units": 8, "gradient_norm": 1e-5}, None,
     "layer 1 (relu): 8 of 16 units dead (never fire on this sample); gradients near zero (|g| = 1e-5): "
     "this is why it barely learns"),
    ({"function": "relu", "saturated_share": 0.5, "saturated_units": 2}, None,
     "layer 1 (relu): 2 of 16 units dead; gradients healthy"),
    ({"function": "relu", "saturated_share": 0.5, "saturated_units": 0}, None, "layer 1 (relu): no dead units;"),
    ({"layer": 3, "function": "softmax", "is_output": True, "units": 10, "saturated_share": None,
      "saturated_units": None}, None, "layer 3 (softmax output): gradients healthy (|g| = 0.04)"),
    ({"constant_units": 16, "gradient_norm": 0.0}, None,
     "few outputs saturated (3%); no unit's output changes from sample to sample; gradients near zero "
     "(|g| = 0): its units carry nothing about the input, so there is little to learn from"),
    ({"constant_units": 16}, None, "no unit's output changes from sample to sample; gradients healthy"),
    ({"gradient_norm": 5e-4}, None, "gradients weak (|g| = 5e-4)"),
    ({"gradient_norm": 50.0}, None, "gradients very large (|g| = 50): steps may overshoot"),
    ({"gradient_norm": 3e-5}, 0.99, "gradients near zero (|g| = 3e-5): the network already fits this sample"),
    ({"gradient_norm": 3e-5}, 0.5, "gradients near zero (|g| = 3e-5): little error reaches this layer from above"),
    ({"gradient_norm": 3e-5}, None, "little error reaches this layer from above"),
    ({"update_ratio": math.inf}, None, "gradients healthy (|g| = 0.04); weights moved away from all zero"),
    ({"update_ratio": 0.0}, None, "; weights did not move"),
    ({"update_ratio": 2e-5}, None, "; weights barely moved (by 2e-5 of their size)"),
    ({"update_ratio": 2.5}, None, "; weights changed by 2.5x their size: the learning rate may be too high"),
    ({"update_ratio": 0.05}, None, "; weights moved by 0.05 of their size"),
])
def test_layer_sentence_branches(changes: dict, accuracy: float | None, expected: str) -> None:
    line = layer_sentence(make(**changes), accuracy)
    assert expected in line
    assert "\n" not in line


def test_a_sentence_without_update_ratio_says_nothing_about_updates_and_plain_reading_joins() -> None:
    assert "weights" not in layer_sentence(make())
    layers = (make(), make(layer=2, gradient_norm=1e-5))
    text = plain_reading(Diagnosis(layers, loss=0.1, accuracy=0.99, samples=100))
    assert text.splitlines()[0].startswith("layer 1") and text.splitlines()[1].startswith("layer 2")
    assert text.splitlines()[1].endswith("the network already fits this sample")
    assert plain_reading(list(layers)).splitlines()[1].endswith("from above")


def test_readings_of_the_tutorial_network_at_its_start() -> None:
    """On the real data: all-ones weights pin every sigmoid; Glorot's scale leaves them free."""
    dataset = load_dataset(require_shared(DIGITS))
    x, labels = diagnostic_sample(dataset.train, 200)
    ones = replace(PRESETS["article"], init="ones").build_network()
    lines = plain_reading(diagnose(ones, x, labels)).splitlines()
    assert len(lines) == 3 and all(line.endswith("this is why it barely learns") for line in lines)
    xavier = replace(PRESETS["article"], init="xavier").build_network()
    assert "barely learns" not in plain_reading(diagnose(xavier, x, labels))


# --------------------------------------------------------------------------------------------------
# The output layer's error signal
# --------------------------------------------------------------------------------------------------

def test_output_delta_explanation_under_squared_error() -> None:
    network = hand_network()
    a = network.forward(X).output
    y = one_hot(LABELS, 2)
    result = output_delta_explanation(network, X, y)
    assert (result["loss"], result["other_loss"], result["samples"]) == ("sse", "ce", 4)
    assert result["mean_abs_error"] == pytest.approx(np.mean(np.abs(a - y)))
    assert result["mean_slope"] == pytest.approx(np.mean(a * (1 - a)))
    assert result["mean_abs_delta"] == pytest.approx(np.mean(np.abs((a - y) * a * (1 - a))))
    assert result["other_mean_abs_delta"] == result["ce_mean_abs_delta"] == result["mean_abs_error"]
    assert result["slowdown"] == pytest.approx(result["mean_abs_error"] / result["mean_abs_delta"])
    assert result["slowdown"] >= 4
    text = result["text"]
    assert f"mean {format_number(result['mean_slope'])}" in text
    assert text.endswith(f"learns {result['slowdown']:.1f}x slower than it would with cross-entropy")
    assert output_delta_explanation(network, X, LABELS) == result      # labels work as well as one-hot


def test_output_delta_explanation_under_cross_entropy() -> None:
    network = hand_network(loss="ce")
    result = output_delta_explanation(network, X, LABELS)
    a = network.forward(X).output
    y = one_hot(LABELS, 2)
    assert (result["loss"], result["other_loss"]) == ("ce", "sse")
    assert result["mean_abs_delta"] == pytest.approx(np.mean(np.abs(a - y)))
    assert result["other_mean_abs_delta"] == pytest.approx(np.mean(np.abs((a - y) * a * (1 - a))))
    assert result["text"].startswith("cross-entropy's delta^L = a - y passes each output's error on unchanged")
    assert result["text"].endswith("slower with squared error")


@pytest.mark.parametrize("loss, ending", [
    ("sse", "the outputs are saturated and the output layer has stopped learning"),
    ("ce", "with squared error these saturated outputs would not learn at all"),
])
def test_saturated_outputs_make_squared_errors_signal_exactly_zero(loss: str, ending: str) -> None:
    # Output 0 pinned at 1 and output 1 at 0 for every sample: right for label 0, wrong for label 1.
    network = Network((3, 4, 2), [W1, np.zeros((2, 4))], [B1, np.array([1000.0, -1000.0])], loss=loss)
    result = output_delta_explanation(network, X, LABELS)
    assert result["sse_mean_abs_delta"] == 0.0 and result["mean_abs_error"] == 0.5
    assert result["slowdown"] == math.inf and result["text"].endswith(ending)
    right = output_delta_explanation(network, X, np.zeros(4, dtype=int))
    assert right["mean_abs_error"] == 0.0 and right["slowdown"] == 1.0
    assert right["text"].startswith("every output is exactly on its target")
    with pytest.raises(ValueError, match="targets must be"):
        output_delta_explanation(network, X, np.zeros((4, 3)))


# --------------------------------------------------------------------------------------------------
# The tracker
# --------------------------------------------------------------------------------------------------

def test_tracker_grows_keeps_its_edges_and_returns_copies() -> None:
    network = hand_network()
    tracker = DiagnosticsTracker(X, LABELS, bins=DEFAULT_BINS, capacity=2)
    first_edges = histogram_edges(network, X)
    diagnoses = []
    for epoch in range(5):
        diagnoses.append(tracker.record(epoch, network))
        for w in network.weights:
            w *= 1.1                       # every layer moves by exactly 10 % of its size
    assert len(tracker) == 5 and tracker.capacity == 8 and tracker.layers == 2
    assert tracker.functions == ("sigmoid", "sigmoid")
    np.testing.assert_array_equal(tracker.epochs(), np.arange(5))
    ratios = tracker.series("update_ratio")
    assert ratios.shape == (5, 2) and np.isnan(ratios[0]).all()
    np.testing.assert_allclose(ratios[1:], 0.1)
    np.testing.assert_allclose(tracker.series("gradient_norm"),
                               [[r.gradient_norm for r in d.layers] for d in diagnoses])
    np.testing.assert_allclose(tracker.series("saturated_share")[0], [6 / 16, diagnoses[0].layers[1].saturated_share])
    np.testing.assert_allclose(tracker.accuracy(), [d.accuracy for d in diagnoses])
    np.testing.assert_allclose(tracker.loss(), [d.loss for d in diagnoses])
    counts, edges = tracker.histograms("z", 1)
    np.testing.assert_array_equal(edges, first_edges[0].z)      # fixed at the first record
    assert counts.shape == (5, DEFAULT_BINS)
    for row, d in zip(counts, diagnoses):
        np.testing.assert_array_equal(row, d.layers[0].z_counts)
        assert row.sum() == 16
    a_counts, a_edges = tracker.histograms("a", 2)
    np.testing.assert_array_equal(a_counts[-1], diagnoses[-1].layers[1].a_counts)
    counts[:] = -1                                             # a copy: the tracker is unchanged
    assert tracker.histograms("z", 1)[0].min() >= 0
    assert set(SERIES) >= {"saturated_units_share", "constant_units_share", "weight_norm"}
    with pytest.raises(ValueError):
        tracker.series("nonsense")
    with pytest.raises(ValueError):
        tracker.histograms("q", 1)
    with pytest.raises(ValueError):
        tracker.histograms("z", 3)


def test_tracker_append_takes_diagnoses_made_elsewhere() -> None:
    network = hand_network("relu", "ce")
    tracker = DiagnosticsTracker(X, LABELS, bins=10)
    assert len(tracker) == 0 and tracker.series("gradient_norm").shape == (0, 0)
    edges = histogram_edges(network, X, bins=10)
    tracker.append(7, diagnose(network, X, LABELS, edges=edges))
    assert tracker.epochs().tolist() == [7]
    assert np.isnan(tracker.series("saturated_share")[0, 1])       # softmax: not applicable
    assert tracker.series("saturated_units_share")[0, 0] == 0.25    # one dead unit of four
    np.testing.assert_array_equal(tracker.histograms("a", 1)[1], edges[0].a)
    with pytest.raises(ValueError, match="holds 2 layers of 10 bins"):
        tracker.append(8, diagnose(network, X, LABELS))              # 40 bins
    assert isinstance(edges[0], LayerEdges)
