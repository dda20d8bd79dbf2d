"""The confusion view: the matrix it shows, a real click on a cell, the gallery, a click on a sample."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRect, QSize, Qt
from pytestqt.qtbot import QtBot

from studio.core.data import Dataset
from studio.core.network import Network
from studio.gui.confusion_view import ConfusionView
from studio.gui.mistakes_gallery import beside_rect
from studio.gui.pad_panel import PadPanel
from tests.helpers import tiny_dataset


def counted(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """An independent confusion matrix: one count per (true, predicted) pair."""
    matrix = np.zeros((10, 10), dtype=np.int64)
    for t, p in zip(labels.tolist(), predicted.tolist()):
        matrix[t, p] += 1
    return matrix


@pytest.fixture
def network() -> Network:
    """Untrained, so it makes plenty of mistakes of several kinds."""
    return Network.initialised((1024, 16, 10), init="xavier", seed=3)


@pytest.fixture
def view(qtbot: QtBot) -> ConfusionView:
    widget = ConfusionView(min_interval=0.0)
    qtbot.addWidget(widget)
    widget.resize(700, 520)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_the_matrix_counts_the_test_split(view: ConfusionView, network: Network) -> None:
    dataset = tiny_dataset()
    view.set_dataset(dataset)
    view.update_network(network)
    predicted = np.argmax(network.forward(dataset.test.images.astype(np.float64)).output, axis=1)
    expected = counted(dataset.test.labels, predicted)
    np.testing.assert_array_equal(view.matrix(), expected)
    assert view.split_name() == "test"
    for t in range(10):                                             # what the table shows
        for p in range(10):
            assert view.table.item(t, p).text() == (str(expected[t, p]) if expected[t, p] else "·")
    correct = int(np.trace(expected))
    assert view.summary_text().startswith(f"Test set: {correct} of {len(predicted)} read right")


def test_clicking_a_cell_opens_its_samples_and_clicking_a_sample_loads_it(
        qtbot: QtBot, view: ConfusionView, network: Network) -> None:
    dataset = tiny_dataset()
    view.set_dataset(dataset)
    view.update_network(network)
    x = dataset.test.images.astype(np.float64)
    outputs = network.forward(x).output
    predicted = np.argmax(outputs, axis=1)
    off = counted(dataset.test.labels, predicted)
    np.fill_diagonal(off, 0)
    true, pred = (int(v) for v in np.unravel_index(np.argmax(off), off.shape))
    expected = [i for i in range(len(predicted)) if dataset.test.labels[i] == true and predicted[i] == pred]
    assert len(expected) >= 2

    assert view.gallery() is None
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=view.cell_position(true, pred))
    gallery = view.gallery()
    assert gallery is not None and gallery.isVisible()
    assert gallery.indices() == expected
    assert gallery.split_name() == "test" and gallery.cell() == (true, pred)
    for sample in gallery.samples():
        np.testing.assert_array_equal(sample.image, dataset.test.images[sample.index])
        order = sorted(range(10), key=lambda c: -outputs[sample.index, c])[:3]
        assert list(sample.top_classes) == order
        assert sample.top_values == pytest.approx([outputs[sample.index, c] for c in order])
        assert (sample.label, sample.predicted) == (true, pred)

    pad = PadPanel()
    qtbot.addWidget(pad)
    pad.set_dataset(dataset)
    view.sample_chosen.connect(pad.load_sample)
    qtbot.waitExposed(gallery)
    with qtbot.waitSignal(view.sample_chosen, timeout=2000) as blocker:
        qtbot.mouseClick(gallery.list_widget.viewport(), Qt.MouseButton.LeftButton, pos=gallery.tile_position(1))
    assert blocker.args == ["test", expected[1]]
    np.testing.assert_array_equal(pad.image(), dataset.test.images[expected[1]])


def test_a_data_set_without_test_split_counts_the_training_split(view: ConfusionView, network: Network) -> None:
    full = tiny_dataset()
    dataset = Dataset("train only", "tests", full.train, None)
    view.set_dataset(dataset)
    view.update_network(network)
    predicted = np.argmax(network.forward(dataset.train.images.astype(np.float64)).output, axis=1)
    assert view.split_name() == "train"
    np.testing.assert_array_equal(view.matrix(), counted(dataset.train.labels, predicted))
    view.open_cell(0, int(predicted[0]))
    assert view.gallery().split_name() == "train"


def test_new_snapshots_are_throttled_and_wait_while_hidden(qtbot: QtBot, network: Network) -> None:
    dataset = tiny_dataset()
    view = ConfusionView(min_interval=0.2)
    qtbot.addWidget(view)
    view.set_dataset(dataset)
    view.update_network(network)
    assert view.matrix() is None                       # hidden: nothing computed yet
    view.show()
    qtbot.waitExposed(view)
    assert view.matrix() is not None
    first = view.matrix()
    other = Network.initialised((1024, 16, 10), init="xavier", seed=11)
    view.update_network(other)                          # too soon after the first: waits
    np.testing.assert_array_equal(view.matrix(), first)
    predicted = np.argmax(other.forward(dataset.test.images.astype(np.float64)).output, axis=1)
    expected = counted(dataset.test.labels, predicted)
    assert not np.array_equal(expected, first)
    qtbot.waitUntil(lambda: np.array_equal(view.matrix(), expected), timeout=3000)


def test_the_gallery_says_when_the_network_has_moved_on_and_refreshes(
        qtbot: QtBot, view: ConfusionView, network: Network) -> None:
    dataset = tiny_dataset()
    view.set_dataset(dataset)
    view.update_network(network)
    gallery = view.open_cell(0, 0)
    assert not gallery.is_stale
    other = Network.initialised((1024, 16, 10), init="xavier", seed=11)
    view.update_network(other)
    qtbot.waitUntil(lambda: gallery.is_stale, timeout=2000)
    qtbot.mouseClick(gallery.refresh_button, Qt.MouseButton.LeftButton)
    predicted = np.argmax(other.forward(dataset.test.images.astype(np.float64)).output, axis=1)
    assert gallery.indices() == [i for i in range(len(predicted))
                                 if dataset.test.labels[i] == 0 and predicted[i] == 0]
    assert not gallery.is_stale


def test_the_gallery_has_a_close_button_and_opens_off_the_pad(qtbot: QtBot, view: ConfusionView,
                                                                network: Network) -> None:
    view.set_dataset(tiny_dataset())
    view.update_network(network)
    gallery = view.open_cell(0, 0)
    assert gallery is not None
    qtbot.waitExposed(gallery)
    window = view.window().frameGeometry()
    pad_side = QRect(window.left() + int(window.width() * 0.55), window.top(), int(window.width() * 0.45) + 1,
                     window.height())
    assert not gallery.frameGeometry().intersects(pad_side) or gallery.geometry().left() > window.right()
    qtbot.mouseClick(gallery.close_button, Qt.MouseButton.LeftButton)
    assert not gallery.isVisible()


def test_beside_rect_prefers_the_screen_beside_the_window_and_never_covers_the_pad() -> None:
    screen = QRect(0, 0, 1920, 1080)
    size = QSize(760, 560)
    # Room on the right.
    assert beside_rect(QRect(0, 0, 1024, 640), screen, size).left() >= 1024
    # Room on the left only.
    assert beside_rect(QRect(1100, 0, 800, 640), screen, size).right() < 1100
    # A maximised window: over its left part only, inside the screen.
    placed = beside_rect(QRect(0, 0, 1920, 1080), screen, size)
    assert placed.right() < 1920 * 0.55 and screen.contains(placed)
    small = beside_rect(QRect(0, 0, 1024, 640), QRect(0, 0, 1024, 640), size)
    assert small.right() < 1024 * 0.56 and QRect(0, 0, 1024, 640).contains(small)
