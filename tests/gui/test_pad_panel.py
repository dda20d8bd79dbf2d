"""The draw-a-digit panel: predictions follow the drawing and the network, samples load into the pad."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.core.data import Dataset, Split
from studio.core.digit_folders import load_dataset
from studio.core.network import Network
from studio.core.pad_normalise import normalise_drawing
from studio.gui.pad_panel import PadPanel
from tests.gui.pad_drag import drag


def make_split(n: int, seed: int) -> Split:
    rng = np.random.default_rng(seed)
    images = (rng.random((n, 1024)) < 0.3).astype(np.uint8)
    labels = rng.integers(0, 10, n).astype(np.int64)
    names = tuple(f"{d}_{i}.txt" for i, d in enumerate(labels))
    return Split(images, labels, names)


def network_view(panel: PadPanel, image: np.ndarray) -> np.ndarray:
    """(1, 1024) float: what the panel's network reads for ``image`` (normalised like the data, the default)."""
    return normalise_drawing(image, panel.input_preview.style())[None].astype(float)


@pytest.fixture
def dataset() -> Dataset:
    return Dataset("tiny", "made in the test", make_split(12, seed=1), make_split(5, seed=2))


@pytest.fixture
def network() -> Network:
    return Network.initialised((1024, 16, 16, 10), init="randn", seed=0)


@pytest.fixture
def panel(qtbot) -> PadPanel:
    widget = PadPanel(seed=0)
    qtbot.addWidget(widget)
    widget.resize(760, 420)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_without_a_network_the_view_shows_a_dash_and_a_hint(panel: PadPanel) -> None:
    view = panel.prediction_view
    assert view.digit_text() == "–"
    assert "model" in view.hint_text().lower()
    assert view.probabilities() is None and view.predicted_digit() is None


def test_set_network_predicts_the_current_drawing_at_once(qtbot, panel: PadPanel,
                                                          network: Network) -> None:
    drawing = (np.random.default_rng(3).random(1024) < 0.2).astype(np.uint8)
    panel.pad.set_image(drawing)
    with qtbot.waitSignal(panel.prediction_changed, timeout=1000) as blocker:
        panel.set_network(network)
    expected = network.predict_proba(network_view(panel, drawing))[0]
    np.testing.assert_allclose(blocker.args[0], expected)
    np.testing.assert_allclose(panel.prediction_view.probabilities(), expected)
    assert panel.prediction_view.predicted_digit() == int(np.argmax(expected))
    assert panel.prediction_view.digit_text() == str(int(np.argmax(expected)))
    assert panel.prediction_view.hint_text() == ""


def test_a_stroke_changes_the_prediction_to_the_networks_output_for_the_pad(
        qtbot, panel: PadPanel, network: Network) -> None:
    panel.set_network(network)
    drag(qtbot, panel.pad, [(16, 5), (16, 27)])
    before = panel.prediction_view.probabilities()
    seen: list[np.ndarray] = []
    panel.prediction_changed.connect(seen.append)
    drag(qtbot, panel.pad, [(5, 16), (12, 16), (20, 16), (27, 16)])
    assert seen, "drawing must trigger a prediction"
    expected = network.predict_proba(network_view(panel, panel.image()))[0]
    np.testing.assert_allclose(seen[-1], expected)
    np.testing.assert_allclose(panel.prediction_view.bar_heights(), expected)
    assert not np.allclose(seen[-1], before)


def test_a_new_network_repredicts_the_same_drawing(qtbot, panel: PadPanel, network: Network) -> None:
    panel.set_network(network)
    drag(qtbot, panel.pad, [(8, 8), (24, 24)])
    other = Network.initialised((1024, 16, 16, 10), init="randn", seed=7)
    with qtbot.waitSignal(panel.prediction_changed, timeout=1000) as blocker:
        panel.set_network(other)
    expected = other.predict_proba(network_view(panel, panel.image()))[0]
    np.testing.assert_allclose(blocker.args[0], expected)
    panel.set_network(None)
    assert panel.prediction_view.probabilities() is None
    assert panel.prediction_view.digit_text() == "–"


def test_loading_a_sample_puts_exactly_its_image_in_the_pad(panel: PadPanel, dataset: Dataset,
                                                            network: Network) -> None:
    panel.set_dataset(dataset)
    panel.set_network(network)
    panel.load_sample("train", 7)
    np.testing.assert_array_equal(panel.image(), dataset.train.images[7])
    name, label = dataset.train.names[7], int(dataset.train.labels[7])
    assert panel.sample_text().startswith(f"sample {name}, label {label}")
    expected = network.predict_proba(network_view(panel, dataset.train.images[7]))[0]
    np.testing.assert_allclose(panel.prediction_view.probabilities(), expected)


def test_the_spin_box_and_split_combo_load_samples(panel: PadPanel, dataset: Dataset) -> None:
    panel.set_dataset(dataset)
    assert not panel.image().any()                       # setting a data set keeps the drawing
    panel._index_spin.setValue(3)
    np.testing.assert_array_equal(panel.image(), dataset.train.images[3])
    panel._split_combo.setCurrentText("test")
    assert panel._index_spin.maximum() == len(dataset.test) - 1
    np.testing.assert_array_equal(panel.image(), dataset.test.images[3])
    panel._index_spin.setValue(4)
    np.testing.assert_array_equal(panel.image(), dataset.test.images[4])
    assert "test" in panel.sample_text()


def test_random_sample_is_seeded_and_loads_that_sample(qtbot, panel: PadPanel, dataset: Dataset) -> None:
    panel.set_dataset(dataset)
    first = [panel.random_sample(seed=5)] + [panel.random_sample() for _ in range(5)]
    again = [panel.random_sample(seed=5)] + [panel.random_sample() for _ in range(5)]
    assert first == again
    assert len(set(first)) > 1
    np.testing.assert_array_equal(panel.image(), dataset.train.images[again[-1]])
    assert panel._index_spin.value() == again[-1]
    qtbot.mouseClick(panel._random_button, Qt.MouseButton.LeftButton)
    index = panel._index_spin.value()
    np.testing.assert_array_equal(panel.image(), dataset.train.images[index])


def test_editing_a_loaded_sample_says_so(qtbot, panel: PadPanel, dataset: Dataset) -> None:
    panel.set_dataset(dataset)
    panel.load_sample("train", 2)
    assert "edited" not in panel.sample_text()
    drag(qtbot, panel.pad, [(1, 1), (1, 30)])
    assert "edited" in panel.sample_text()


def test_clear_button_and_action_empty_the_pad(qtbot, panel: PadPanel, dataset: Dataset) -> None:
    panel.set_dataset(dataset)
    panel.load_sample("train", 0)
    qtbot.mouseClick(panel._clear_button, Qt.MouseButton.LeftButton)
    assert not panel.image().any()
    panel.load_sample("train", 1)
    panel.clear_action.trigger()
    assert not panel.image().any()
    shortcuts = {s.toString() for s in panel.clear_action.shortcuts()}
    assert {"Del", "Backspace"} <= shortcuts
    assert "Delete" in panel._clear_button.toolTip()


def test_the_delete_key_clears_the_pad(qtbot, panel: PadPanel, dataset: Dataset) -> None:
    panel.set_dataset(dataset)
    panel.load_sample("train", 0)
    panel.activateWindow()
    qtbot.waitActive(panel)
    panel.pad.setFocus()
    qtbot.keyClick(panel.pad, Qt.Key.Key_Delete)
    assert not panel.image().any()
    panel.load_sample("train", 1)
    qtbot.keyClick(panel.pad, Qt.Key.Key_Backspace)
    assert not panel.image().any()


def test_backspace_while_typing_an_index_does_not_clear_the_pad(qtbot, panel: PadPanel,
                                                                dataset: Dataset) -> None:
    panel.set_dataset(dataset)
    panel.load_sample("train", 11)
    panel.activateWindow()
    qtbot.waitActive(panel)
    panel._index_spin.setFocus()
    qtbot.keyClick(panel._index_spin, Qt.Key.Key_Backspace)
    assert panel.image().any()


def test_without_a_test_split_only_train_can_be_chosen(panel: PadPanel) -> None:
    panel.set_dataset(Dataset("one folder", "test", make_split(4, seed=3), None))
    assert panel.current_split() == "train"
    assert not panel._split_combo.model().item(1).isEnabled()
    with pytest.raises(ValueError, match="test"):
        panel.load_sample("test", 0)
    panel.set_dataset(None)
    assert not panel._random_button.isEnabled()
    assert not panel._index_spin.isEnabled()


def test_a_real_sample_is_named_as_in_the_brief(panel: PadPanel, digits_dir) -> None:
    real = load_dataset(digits_dir)
    panel.set_dataset(real)
    index = real.train.names.index("3_17.txt")
    panel.load_sample("train", index)
    assert panel.sample_text().startswith("sample 3_17.txt, label 3")
    np.testing.assert_array_equal(panel.image(), real.train.images[index])


def test_the_prediction_view_shows_outputs_as_given_and_highlights_the_largest(panel: PadPanel) -> None:
    view = panel.prediction_view
    p = np.array([0.1, 0.7, 0.2, 0.9, 0.0, 0.3, 0.05, 0.6, 0.4, 0.8])   # sigmoid: sums to 4.05
    view.set_probabilities(p)
    np.testing.assert_allclose(view.bar_heights(), p)                  # not normalised
    assert view.predicted_digit() == 3 and view.digit_text() == "3"
    assert view.value_text() == "output 0.90"
    brushes = [b.color().name() for b in view._bars.opts["brushes"]]
    assert len(set(brushes)) == 2
    assert brushes.count(brushes[3]) == 1                              # only digit 3 stands out
    assert view._plot.getPlotItem().getAxis("left").labelText == "output"
    view.set_probabilities(np.full(10, np.nan))
    assert view.digit_text() == "–" and "finite" in view.hint_text()


def test_an_empty_pad_shows_no_prediction_but_asks_for_a_drawing(qtbot, panel: PadPanel,
                                                                 network: Network) -> None:
    with qtbot.waitSignal(panel.prediction_changed, timeout=1000) as blocker:
        panel.set_network(network)
    assert blocker.args == [None]                        # a blank page has nothing to predict
    view = panel.prediction_view
    assert view.digit_text() == "–" and view.value_text() == ""
    assert view.predicted_digit() is None and view.probabilities() is None
    assert "draw a digit" in view.hint_text().lower()
    assert not view.bar_heights().any()
    drag(qtbot, panel.pad, [(4, 16), (28, 16)])
    assert view.predicted_digit() is not None and view.hint_text() == ""
    with qtbot.waitSignal(panel.prediction_changed, timeout=1000) as blocker:
        panel.clear()
    assert blocker.args == [None]
    assert view.digit_text() == "–" and "draw a digit" in view.hint_text().lower()


def test_without_a_network_an_empty_pad_still_says_there_is_no_model(panel: PadPanel) -> None:
    assert "model" in panel.prediction_view.hint_text().lower()
    assert "draw a digit" not in panel.prediction_view.hint_text().lower()


def test_add_to_my_digits_asks_only_when_there_is_ink(qtbot, panel: PadPanel, dataset: Dataset) -> None:
    button = panel.add_to_my_digits_button
    assert not button.isEnabled() and not panel.add_to_my_digits_action.isEnabled()
    with qtbot.assertNotEmitted(panel.add_to_my_digits_requested):
        panel.add_to_my_digits_action.trigger()          # disabled: nothing asked
    drag(qtbot, panel.pad, [(10, 10), (20, 20)])
    assert button.isEnabled()
    with qtbot.waitSignal(panel.add_to_my_digits_requested, timeout=1000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    panel.clear()
    assert not button.isEnabled()
    panel.set_dataset(dataset)
    panel.load_sample("train", 0)                        # a loaded sample counts as a drawing
    assert button.isEnabled()


def test_an_untrained_network_says_so_instead_of_naming_a_digit(qtbot, panel: PadPanel,
                                                                 network: Network) -> None:
    drag(qtbot, panel.pad, [(8, 16), (24, 16)])
    panel.set_network(network, trained=False)
    view = panel.prediction_view
    assert view.digit_text() == "?"
    assert "untrained" in view.hint_text().lower() and "random" in view.hint_text().lower()
    assert view.predicted_digit() is None
    assert view.bar_heights().any()                    # the random outputs are still drawn
    panel.set_network(network, trained=True)
    assert view.digit_text() == str(view.predicted_digit())
    assert view.hint_text() == ""


def test_another_data_set_clears_a_sample_of_the_old_one_but_keeps_my_drawing(
        qtbot, panel: PadPanel, dataset: Dataset) -> None:
    panel.set_dataset(dataset)
    panel.load_sample("train", 3)
    drag(qtbot, panel.pad, [(1, 1), (1, 5)])                # edited: still the old set's sample
    other = Dataset("other", "made in the test", make_split(7, seed=5), None)
    panel.set_dataset(other)
    assert not panel.image().any()
    assert panel.sample_text() == "Your own drawing."
    drag(qtbot, panel.pad, [(8, 16), (24, 16)])            # the learner's own drawing stays
    panel.set_dataset(dataset)
    assert panel.image().any()


def test_nothing_moves_when_the_sample_text_or_the_hint_changes(qtbot, panel: PadPanel, dataset: Dataset,
                                                                network: Network) -> None:
    panel.resize(520, 420)
    panel.set_dataset(Dataset("tiny", "x", make_split(12, seed=1), None))
    panel.set_network(network)
    watched = (panel._random_button, panel.pad, panel.prediction_view._plot, panel._index_spin)
    before = settled(qtbot, watched)
    long = Split(dataset.train.images, dataset.train.labels,
                 tuple(f"{l}_{'a-very-long-sample-file-name-that-wraps' * 2}.txt" for l in dataset.train.labels))
    panel.set_dataset(Dataset("tiny", "x", long, None))
    panel.load_sample("train", 2)                     # a description that wraps
    drag(qtbot, panel.pad, [(8, 16), (24, 16)])       # a prediction instead of the hint
    assert settled(qtbot, watched) == before


def settled(qtbot, widgets) -> list:
    """The widgets' geometries once two looks 50 ms apart agree (layouts settle in posted events)."""
    last = None
    for _ in range(40):
        qtbot.wait(50)
        now = [w.geometry() for w in widgets]
        if now == last:
            return now
        last = now
    return last


def test_the_preview_shows_what_the_network_reads_and_the_option_switches_it_off(
        qtbot, panel: PadPanel, network: Network) -> None:
    panel.set_network(network)
    preview = panel.input_preview
    assert preview.normalising()                                     # on by default
    drag(qtbot, panel.pad, [(4, 4), (4, 8), (10, 8)])                # small, in a corner
    shown = preview.shown()
    np.testing.assert_array_equal(shown, normalise_drawing(panel.image(), preview.style()))
    rows = np.nonzero(shown.reshape(32, 32).any(axis=1))[0]
    assert rows[-1] - rows[0] >= 28                                  # scaled to the data's height
    np.testing.assert_allclose(panel.prediction_view.probabilities(),
                               network.predict_proba(shown[None].astype(float))[0])
    with qtbot.waitSignal(panel.prediction_changed, timeout=1000) as blocker:
        preview.normalise_check.click()
    assert not preview.normalising()
    np.testing.assert_array_equal(preview.shown(), panel.image())
    np.testing.assert_allclose(blocker.args[0], network.predict_proba(panel.image()[None].astype(float))[0])
