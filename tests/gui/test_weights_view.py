"""The weights view: tiles are W1's rows, levels are symmetric, pages, hover, click-to-enlarge, matrices."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from studio.core.network import Network
from studio.core.weights_mosaic import tile_origin
from studio.gui.weights_view import WeightsView


@pytest.fixture
def view(qtbot) -> WeightsView:
    widget = WeightsView()
    qtbot.addWidget(widget)
    widget.resize(560, 520)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def network() -> Network:
    return Network.initialised((1024, 16, 16, 10), init="randn", seed=0)


def widget_point(view: WeightsView, unit: int) -> QPoint:
    """Viewport pixel at the centre of ``unit``'s tile."""
    QApplication.processEvents()          # the plot lays itself out (and maps scene to pixels) lazily
    return view.plot_widget.mapFromScene(view.scene_position_of_unit(unit))


def hover(widget: QWidget, pos: QPoint) -> None:
    """A mouse move with no button held. ``qtbot.mouseMove`` sends none on the offscreen platform
    (it moves the cursor, which that platform does not have), so deliver the event directly."""
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), widget.mapToGlobal(QPointF(pos)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_tiles_are_the_rows_of_w1_in_a_nan_gutter_mosaic(view: WeightsView, network: Network) -> None:
    view.set_network(network)
    w1 = network.weights[0]
    mosaic = view.mosaic()
    assert mosaic.shape == (4 * 33 - 1, 4 * 33 - 1)
    for unit in range(16):
        np.testing.assert_array_equal(view.tile(unit), w1[unit].reshape(32, 32))
        top, left = tile_origin(unit, 4, (32, 32), 1)
        np.testing.assert_array_equal(mosaic[top:top + 32, left:left + 32], w1[unit].reshape(32, 32))
    assert np.isnan(mosaic[32, :]).all() and np.isnan(mosaic[:, 32]).all()
    np.testing.assert_array_equal(view.image_item.image, mosaic)   # what is drawn is what we report


def test_levels_are_symmetric_and_shared_by_the_whole_layer(view: WeightsView, network: Network) -> None:
    view.set_network(network)
    m = float(np.abs(network.weights[0]).max())
    assert view.levels() == (-m, m)
    np.testing.assert_allclose(view.image_item.getLevels(), (-m, m))
    np.testing.assert_allclose(view.color_bar.levels(), (-m, m))
    assert not view.color_bar.interactive


def test_the_view_follows_new_snapshots_of_the_same_network(view: WeightsView, network: Network) -> None:
    view.set_network(network)
    view.zoom_to(3)
    trained = network.copy()
    trained.weights[0] *= 2.0
    view.set_network(trained)
    assert view.zoomed_unit() == 3                          # state kept across snapshots
    np.testing.assert_array_equal(view.mosaic(), trained.weights[0][3].reshape(32, 32))
    assert view.levels()[1] == pytest.approx(2 * np.abs(network.weights[0]).max())


def test_a_64_unit_layer_is_paged(qtbot, view: WeightsView) -> None:
    network = Network.initialised((1024, 64, 10), init="xavier", seed=1)
    w1 = network.weights[0]
    view.set_network(network)
    assert view.page_count() == 2
    assert list(view.units_on_page()) == list(range(36))
    np.testing.assert_array_equal(view.mosaic()[:32, :32], w1[0].reshape(32, 32))
    assert view._next_button.isVisible() and not view._previous_button.isEnabled()

    qtbot.mouseClick(view._next_button, Qt.MouseButton.LeftButton)
    assert view.page() == 1
    assert list(view.units_on_page()) == list(range(36, 64))
    mosaic = view.mosaic()
    assert mosaic.shape == (6 * 33 - 1, 6 * 33 - 1)          # same grid on every page
    for slot, unit in enumerate(range(36, 64)):
        top, left = tile_origin(slot, 6, (32, 32), 1)
        np.testing.assert_array_equal(mosaic[top:top + 32, left:left + 32], w1[unit].reshape(32, 32))
    top, left = tile_origin(28, 6, (32, 32), 1)
    assert np.isnan(mosaic[top:, left:]).all()               # empty slots after unit 63
    assert "36-63" in view._page_label.text()
    # Levels still cover the whole layer, not only this page.
    assert view.levels()[1] == pytest.approx(np.abs(w1).max())
    with pytest.raises(ValueError):
        view.set_page(2)


def test_clicking_a_tile_enlarges_that_unit(qtbot, view: WeightsView, network: Network) -> None:
    view.set_network(network)
    levels = view.levels()
    qtbot.mouseClick(view.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=widget_point(view, 6))
    assert view.zoomed_unit() == 6
    np.testing.assert_array_equal(view.mosaic(), network.weights[0][6].reshape(32, 32))
    assert view.levels() == levels
    assert view._back_button.isVisible()
    qtbot.mouseClick(view.plot_widget.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.plot_widget.viewport().rect().center())
    assert view.zoomed_unit() is None
    assert view.mosaic().shape == (131, 131)


def test_clicking_a_tile_on_the_second_page(qtbot, view: WeightsView) -> None:
    network = Network.initialised((1024, 64, 10), init="xavier", seed=1)
    view.set_network(network)
    view.set_page(1)
    qtbot.mouseClick(view.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=widget_point(view, 50))
    assert view.zoomed_unit() == 50
    np.testing.assert_array_equal(view.mosaic(), network.weights[0][50].reshape(32, 32))
    qtbot.mouseClick(view._back_button, Qt.MouseButton.LeftButton)
    assert view.zoomed_unit() is None and view.page() == 1


def test_hovering_a_tile_names_the_unit_and_its_range(qtbot, view: WeightsView, network: Network) -> None:
    view.set_network(network)
    hover(view.plot_widget.viewport(), widget_point(view, 9))
    assert view.status_text().startswith("unit 9:")
    row = network.weights[0][9]
    assert f"min {row.min():.3g}" in view.status_text()
    assert f"max {row.max():.3g}" in view.status_text()
    qtbot.wait(30)                       # pyqtgraph drops moves less than 10 ms apart
    hover(view.plot_widget.viewport(), QPoint(2, 2))        # off the mosaic: back to the help
    assert not view.status_text().startswith("unit")


def test_hovering_a_matrix_cell_reads_its_weight(view: WeightsView, network: Network) -> None:
    view.set_network(network)
    view.set_layer(2)
    QApplication.processEvents()
    scene = view.image_item.mapToScene(QPointF(5.5, 3.5))          # column 5, row 3
    hover(view.plot_widget.viewport(), view.plot_widget.mapFromScene(scene))
    assert view.status_text() == f"output unit 3, input unit 5: w = {network.weights[2][3, 5]:.3g}"


def test_later_layers_are_shown_as_matrices(view: WeightsView, network: Network) -> None:
    view.set_network(network)
    assert view._layer_combo.count() == 3
    assert view._layer_combo.itemText(0) == "Layer 1 (input -> hidden 1)"
    view.set_layer(1)
    np.testing.assert_array_equal(view.mosaic(), network.weights[1])
    m = float(np.abs(network.weights[1]).max())
    assert view.levels() == (-m, m)
    assert view.page_count() == 1 and view.zoomed_unit() is None
    plot = view.plot_widget.getPlotItem()
    assert plot.getAxis("bottom").labelText == "input unit"
    assert plot.getAxis("left").labelText == "output unit"
    assert plot.getAxis("left").isVisible()
    view.set_layer(2)
    np.testing.assert_array_equal(view.mosaic(), network.weights[2])
    assert view.mosaic().shape == (10, 16)
    with pytest.raises(ValueError):
        view.zoom_to(0)


def test_a_first_layer_that_is_not_a_32x32_image_is_a_matrix(view: WeightsView) -> None:
    network = Network.initialised((64, 8, 10), seed=2)
    view.set_network(network)
    assert view.layer() == 0
    np.testing.assert_array_equal(view.mosaic(), network.weights[0])
    assert "8 x 64" in view._layer_combo.itemData(0, Qt.ItemDataRole.ToolTipRole)
    with pytest.raises(ValueError):
        view.tile(0)


def test_no_network_shows_nothing_but_a_hint(view: WeightsView, network: Network) -> None:
    view.set_network(network)
    view.set_network(None)
    assert "no model" in view.status_text().lower()
    assert np.isnan(view.mosaic()).all()
    assert not view._layer_combo.isEnabled()
    assert view.image_item.image is None


def test_zero_weights_still_give_usable_levels(view: WeightsView) -> None:
    view.set_network(Network.initialised((1024, 16, 10), init="zeros", seed=0))
    assert view.levels() == (-1.0, 1.0)


def test_the_mosaic_is_drawn_upright_and_not_transposed(view: WeightsView) -> None:
    """Row 0 of a tile is drawn at the top, as on the paint pad, and rows stay rows."""
    weights = np.zeros((16, 1024))
    weights[0].reshape(32, 32)[0, :] = 1.0                   # top row of unit 0: strongly positive
    weights[0].reshape(32, 32)[:, 0] = -1.0                  # left column: strongly negative
    network = Network((1024, 16, 10), [weights, np.zeros((10, 16))], [np.zeros(16), np.zeros(10)])
    view.set_network(network)
    QApplication.processEvents()
    top = view.image_item.mapToScene(QPointF(16.5, 0.5))
    bottom = view.image_item.mapToScene(QPointF(16.5, 31.5))
    assert top.y() < bottom.y()
    picture = view.plot_widget.viewport().grab().toImage()

    def colour(x: float, y: float) -> tuple[int, int, int]:
        point = view.plot_widget.mapFromScene(view.image_item.mapToScene(QPointF(x, y)))
        c = picture.pixelColor(point)
        return c.red(), c.green(), c.blue()

    r, g, b = colour(16.5, 0.5)             # the top row's middle: red
    assert r > b + 80
    r, g, b = colour(0.5, 16.5)             # the left column's middle: blue
    assert b > r + 80
    r, g, b = colour(16.5, 16.5)            # a zero weight: near white
    assert min(r, g, b) > 180


def test_the_layer_names_are_never_cut_off_in_a_narrow_pane(qtbot, view: WeightsView) -> None:
    # 256 units need page buttons beside the layer combo; at the window's 1440 px the pane is ~450 px.
    view.set_network(Network.initialised((1024, 256, 128, 10), init="he", seed=0))
    view.resize(440, 480)
    qtbot.waitUntil(lambda: view._next_button.isVisible(), timeout=1000)
    QApplication.processEvents()
    combo = view._layer_combo
    longest = max(combo.fontMetrics().horizontalAdvance(combo.itemText(i)) for i in range(combo.count()))
    assert combo.width() >= longest + 20                 # the text plus the drop-down arrow
    assert view._next_button.geometry().right() <= view.width()


def test_the_caption_never_shows_an_earlier_networks_weight(view: WeightsView, network: Network) -> None:
    """Reset, a preset or a model load hands over another network: a caption read off the old one
    must not stay (it showed "w = -1.29" of a network that no longer exists)."""
    view.set_network(network)
    view.set_layer(2)
    QApplication.processEvents()
    scene = view.image_item.mapToScene(QPointF(5.5, 3.5))
    hover(view.plot_widget.viewport(), view.plot_widget.mapFromScene(scene))
    assert view.status_text() == f"output unit 3, input unit 5: w = {network.weights[2][3, 5]:.3g}"
    other = Network.initialised(network.sizes, seed=99)
    view.set_network(other)
    # The pointer has not moved: the caption reads the new network's weight, or gives help.
    text = view.status_text()
    assert f"{network.weights[2][3, 5]:.3g}" not in text or f"{other.weights[2][3, 5]:.3g}" in text
    QApplication.sendEvent(view.plot_widget, QEvent(QEvent.Type.Leave))
    assert not view.status_text().startswith("output unit")
    view.set_network(Network.initialised((1024, 8, 10), seed=1))
    assert not view.status_text().startswith("output unit")


def test_the_header_keeps_its_size_when_pages_and_zoom_come_and_go(qtbot, view: WeightsView) -> None:
    view.set_network(Network.initialised((1024, 256, 128, 10), init="he", seed=0))
    view.resize(600, 480)
    QApplication.processEvents()
    before = (view.minimumSizeHint(), view.plot_widget.geometry())
    view.set_page(3)
    QApplication.processEvents()
    assert (view.minimumSizeHint(), view.plot_widget.geometry()) == before
    view.zoom_to(50)
    QApplication.processEvents()
    assert view._back_button.isVisible()
    assert (view.minimumSizeHint(), view.plot_widget.geometry()) == before
