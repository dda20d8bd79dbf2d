"""The "One update" tab driven as a learner would: keys and slider, clicks on units, apply and undo."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from studio.core.formula_text import to_html
from studio.core.network import Network, one_hot
from studio.core.training import Optimiser
from studio.gui.one_update_view import OneUpdateView
from tests.helpers import tiny_dataset


class FakeWindow:
    """What the main window does with ``weights_changed``: copy the weights into its network in
    place, then hand every view a new snapshot."""

    def __init__(self, view: OneUpdateView, network: Network) -> None:
        self.view = view
        self.network = network
        view.weights_changed.connect(self.on_weights_changed)
        view.set_network(network.copy())

    def on_weights_changed(self, new: Network) -> None:
        for p, q in zip(self.network.parameters(), new.parameters()):
            p[...] = q
        self.view.set_network(self.network.copy())


@pytest.fixture
def view(qtbot) -> OneUpdateView:
    widget = OneUpdateView()
    qtbot.addWidget(widget)
    widget.resize(1000, 760)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def network() -> Network:
    return Network.initialised((1024, 6, 5, 10), init="randn", seed=2)


@pytest.fixture
def window(view: OneUpdateView, network: Network) -> FakeWindow:
    fake = FakeWindow(view, network)
    view.set_dataset(tiny_dataset(per_class=2, test_per_class=1))
    view.set_learning_rate(0.5)
    view.set_source("dataset")
    view.set_sample("train", 7)
    return fake


def hover(widget: QWidget, pos: QPoint) -> None:
    """A mouse move with no button (``qtbot.mouseMove`` sends none offscreen)."""
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), widget.mapToGlobal(QPointF(pos)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def stage_of(view: OneUpdateView, kind: str, layer: int) -> int:
    return next(i for i, st in enumerate(view.walkthrough.stages) if st.kind == kind and st.layer == layer)


def test_keys_and_slider_walk_the_stages(qtbot, view: OneUpdateView, window: FakeWindow) -> None:
    walk = view.walkthrough
    assert walk is not None and len(walk.stages) == 15 and view.slider.maximum() == 14
    assert view.stage_index() == 0
    for expected in range(1, 4):
        qtbot.keyClick(view, Qt.Key.Key_Right)
        assert view.stage_index() == expected
        assert view.formula_text() == walk.stages[expected].formula_html
        assert view.reading_text() == to_html(walk.stages[expected].reading)
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.stage_index() == 2
    view.slider.setValue(8)
    assert view.formula_text() == to_html("δ³ = (a³ − y) ⊙ a³(1 − a³)")
    qtbot.mouseClick(view._next_button, Qt.MouseButton.LeftButton)
    assert view.formula_text() == to_html("δ² = (W³ᵀ δ³) ⊙ σ′(z²)")
    view.slider.setValue(14)
    qtbot.keyClick(view, Qt.Key.Key_Right)            # already at the last stage
    assert view.stage_index() == 14 and "W ← W − η ∂C/∂W" in walk.stages[14].formula


def test_the_shown_bars_are_the_stages_vector(view: OneUpdateView, window: FakeWindow) -> None:
    walk = view.walkthrough
    index = stage_of(view, "delta", 2)
    view.set_stage(index)
    heights = view.bars._items[0].opts["height"]
    np.testing.assert_array_equal(heights, walk.delta(2))


def test_clicking_a_unit_writes_out_its_sum(qtbot, view: OneUpdateView, window: FakeWindow) -> None:
    walk = view.walkthrough
    index = stage_of(view, "z", 2)
    view.set_stage(index)
    QApplication.processEvents()
    qtbot.mouseClick(view.bars.viewport(), Qt.MouseButton.LeftButton, pos=view.bars.position_of_unit(3))
    assert view.selected_unit() == 3
    work = walk.unit_work(index, 3)
    assert to_html(work.equation) in view.work_text()
    assert work.symbol == "z²₃"
    qtbot.wait(30)                      # pyqtgraph drops mouse moves less than 10 ms apart
    hover(view.bars.viewport(), view.bars.position_of_unit(1))
    assert view.hover_text().startswith("z²₁ = ")
    # another stage starts from its own most telling unit
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.selected_unit() == view.walkthrough.stages[index + 1].default_unit


def test_first_layer_gradient_pictures_and_a_tile_click(qtbot, view: OneUpdateView, window: FakeWindow) -> None:
    walk = view.walkthrough
    index = stage_of(view, "gradient", 1)
    view.set_stage(index)
    QApplication.processEvents()
    pictures = view.pictures
    assert view._plots.currentWidget() is pictures
    gradient, weights = walk.first_layer_pictures()
    m_g, m_w = np.abs(gradient).max(), np.abs(weights).max()
    assert pictures.levels == ((-m_g, m_g), (-m_w, m_w))
    np.testing.assert_array_equal(pictures.left.image[:32, 33:65], gradient[1])
    qtbot.mouseClick(pictures.viewport(), Qt.MouseButton.LeftButton, pos=pictures.position_of_unit(4, "right"))
    assert view.selected_unit() == 4
    assert to_html(walk.unit_work(index, 4).equation) in view.work_text()


def test_the_input_stage_shows_the_drawing_and_its_pixels(qtbot, view: OneUpdateView, window: FakeWindow) -> None:
    view.set_stage(0)
    QApplication.processEvents()
    pixel = 5 * 32 + 7
    qtbot.mouseClick(view.pictures.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.pictures.position_of_unit(pixel))
    assert view.selected_unit() == pixel
    assert "row 5, column 7" in view.work_text()


def test_apply_takes_one_step_and_undo_puts_the_weights_back(qtbot, view: OneUpdateView,
                                                             window: FakeWindow) -> None:
    network = window.network
    original = [p.copy() for p in network.parameters()]
    dataset = tiny_dataset(per_class=2, test_per_class=1)
    x, label = dataset.train.images[7].astype(np.float64), int(dataset.train.labels[7])
    expected = network.copy()
    grads = expected.backward(x[None], one_hot(np.array([label])))
    Optimiser(0.5).step(expected, grads.weights, grads.biases)
    view.set_stage(stage_of(view, "update", 3))
    assert not view.undo_button.isEnabled()
    with qtbot.waitSignal(view.weights_changed):
        qtbot.mouseClick(view.apply_button, Qt.MouseButton.LeftButton)
    for got, want in zip(network.parameters(), expected.parameters()):
        np.testing.assert_array_equal(got, want)
    assert "Applied (η = 0.5): loss" in view.result_text()
    assert view.undo_button.isEnabled()
    # the walk-through now shows the stepped network, on the same stage
    assert view.walkthrough.loss == pytest.approx(float(expected.loss_per_sample(x[None], one_hot(np.array([label])))[0]))
    assert view.stage_index() == 14
    qtbot.mouseClick(view.undo_button, Qt.MouseButton.LeftButton)
    for got, want in zip(network.parameters(), original):
        np.testing.assert_array_equal(got, want)
    assert view.result_text().startswith("Undone") and not view.undo_button.isEnabled()


def test_apply_and_undo_are_disabled_while_a_run_is_live(qtbot, view: OneUpdateView, window: FakeWindow) -> None:
    original = [p.copy() for p in window.network.parameters()]
    view.apply_update()
    view.set_run_live(True)
    assert not view.apply_button.isEnabled() and not view.undo_button.isEnabled()
    assert not view.undo_update() and not view.apply_update()
    view.set_run_live(False)
    assert view.undo_button.isEnabled()
    view.undo_update()
    for got, want in zip(window.network.parameters(), original):
        np.testing.assert_array_equal(got, want)


def test_a_new_network_forgets_the_undo(view: OneUpdateView, window: FakeWindow) -> None:
    view.apply_update()
    view.set_network(Network.initialised((1024, 6, 5, 10), seed=9))
    assert not view.undo_button.isEnabled() and view.result_text() == ""


def test_the_pad_drawing_with_a_chosen_label(view: OneUpdateView, window: FakeWindow) -> None:
    image = np.zeros((32, 32))
    image[8:24, 15:17] = 1
    view.set_pad_drawing(image)
    view.set_source("pad")
    view.set_label(4)
    walk = view.walkthrough
    assert walk.label == 4
    np.testing.assert_array_equal(walk.x, image.reshape(-1))
    assert view._label_spin.isVisible() and not view._index_spin.isVisible()


def test_the_chosen_mistake(view: OneUpdateView, window: FakeWindow) -> None:
    view.set_source("mistake")
    assert view.walkthrough is None and "No mistake chosen" in view._sample_label.text()
    assert not view.apply_button.isEnabled()
    view.set_mistake("test", 3)
    test = tiny_dataset(per_class=2, test_per_class=1).test
    np.testing.assert_array_equal(view.walkthrough.x, test.images[3])
    assert view.walkthrough.label == int(test.labels[3])


def test_nothing_is_computed_while_hidden(qtbot, network: Network) -> None:
    view = OneUpdateView()
    qtbot.addWidget(view)
    view.set_network(network)
    assert view._walk is None and view._stale
    view.show()
    qtbot.waitExposed(view)
    assert view._walk is not None and view._walk.label == 0      # the empty pad, target 0
