"""The pad's fooling controls, driven as a learner would: L for the overlay, Make it say, Undo, fooling images."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.core import fooling
from studio.core.network import Network
from studio.gui import fool_panel as fool_panel_module
from studio.gui.fool_panel import FoolPanel
from studio.gui.pad_panel import PadPanel
from tests.gui.pad_drag import drag
from tests.helpers import quick_network, tiny_dataset


@pytest.fixture(scope="module")
def network() -> Network:
    return quick_network(epochs=1)


@pytest.fixture
def panels(qtbot, network: Network, monkeypatch: pytest.MonkeyPatch) -> tuple[PadPanel, FoolPanel]:
    monkeypatch.setattr(fool_panel_module, "PLAY_INTERVAL_MS", 5)      # play fast in tests
    window = QWidget()
    qtbot.addWidget(window)
    pad_panel = PadPanel(seed=0)
    fool = FoolPanel(pad_panel)
    layout = QVBoxLayout(window)
    layout.addWidget(pad_panel)
    layout.addWidget(fool)
    dataset = tiny_dataset(10, 5)
    pad_panel.set_dataset(dataset)
    fool.set_dataset(dataset)
    pad_panel.set_network(network)
    pad_panel.load_sample("train", 37)
    window.resize(800, 640)
    window.show()
    qtbot.waitExposed(window)
    yield pad_panel, fool
    fool.shutdown()
    assert fool.search_runner.thread_count == 0 and fool.overlay_runner.thread_count == 0


def single_pass_changes(network: Network, image: np.ndarray, digit: int) -> np.ndarray:
    """Each single flip's change of output ``digit``, one forward pass per flip."""
    before = network.predict_proba(image[None].astype(float))[0, digit]
    return np.array([network.predict_proba(fooling.flip(image, [p])[None].astype(float))[0, digit] - before
                     for p in range(image.size)])


def test_l_toggles_the_overlay_of_exact_single_flip_changes(qtbot, panels: tuple[PadPanel, FoolPanel],
                                                            network: Network) -> None:
    pad_panel, fool = panels
    pad_panel.window().activateWindow()
    qtbot.waitActive(pad_panel.window())
    pad_panel.pad.setFocus()
    assert pad_panel.pad.overlay() is None and not fool.legend.isVisible()
    qtbot.keyClick(pad_panel.pad, Qt.Key.Key_L)
    assert fool.looks_action.isChecked()
    qtbot.waitUntil(lambda: pad_panel.pad.overlay() is not None, timeout=5000)
    image = pad_panel.image()
    digit = int(network.predict(image[None].astype(float))[0])
    np.testing.assert_allclose(pad_panel.pad.overlay(), single_pass_changes(network, image, digit), atol=1e-12)
    assert fool.legend.isVisible()
    largest = np.abs(pad_panel.pad.overlay()).max()
    assert fool.legend.labels() == (f"{-largest:+.3g}", "0", f"{largest:+.3g}")
    # Drawing updates the overlay to the new drawing.
    drag(qtbot, pad_panel.pad, [(0.1, 0.1), (0.3, 0.1)])
    new = pad_panel.image()
    assert not np.array_equal(new, image)
    digit = int(network.predict(new[None].astype(float))[0])
    qtbot.waitUntil(lambda: np.allclose(pad_panel.pad.overlay(), single_pass_changes(network, new, digit),
                                        atol=1e-12), timeout=5000)
    qtbot.keyClick(pad_panel.pad, Qt.Key.Key_L)
    assert not fool.looks_action.isChecked() and pad_panel.pad.overlay() is None
    assert not fool.legend.isVisible()


def test_gradient_mode_shows_the_gradient_estimate(qtbot, panels: tuple[PadPanel, FoolPanel],
                                                   network: Network) -> None:
    pad_panel, fool = panels
    fool._mode_combo.setCurrentIndex(1)
    fool.looks_action.trigger()
    image = pad_panel.image()
    digit = int(network.predict(image[None].astype(float))[0])
    expected = fooling.gradient_saliency(network, image, digit)
    qtbot.waitUntil(lambda: pad_panel.pad.overlay() is not None
                    and np.allclose(pad_panel.pad.overlay(), expected), timeout=5000)
    assert "gradient" in fool._legend_text.text().lower()


def test_make_it_say_plays_the_flips_then_undo_restores(qtbot, panels: tuple[PadPanel, FoolPanel],
                                                        network: Network) -> None:
    pad_panel, fool = panels
    original = pad_panel.image()
    before = int(network.predict(original[None].astype(float))[0])
    target = (before + 3) % 10
    fool.set_target(target)
    seen: list[np.ndarray] = []
    pad_panel.prediction_changed.connect(lambda p: seen.append(p))
    qtbot.mouseClick(fool.say_button, Qt.MouseButton.LeftButton)
    assert fool.is_playing()
    qtbot.waitUntil(lambda: not fool.is_playing(), timeout=20000)
    result = fool.last_result()
    assert result is not None and result.reached
    now = pad_panel.image()
    assert np.count_nonzero(now != original) == result.count
    assert int(network.predict(now[None].astype(float))[0]) == target
    assert pad_panel.prediction_view.predicted_digit() == target
    assert len(seen) >= result.count                  # the outputs moved with every flip
    assert fool.status_label.text() == (f"{result.count} pixels turned your {before} into "
                                        f"{'an' if target == 8 else 'a'} {target}.")
    marks = pad_panel.pad.overlay()
    assert np.count_nonzero(~np.isnan(marks)) == result.count
    assert fool.undo_button.isEnabled()
    qtbot.mouseClick(fool.undo_button, Qt.MouseButton.LeftButton)
    assert np.array_equal(pad_panel.image(), original)
    assert pad_panel.pad.overlay() is None and not fool.undo_button.isEnabled()


def test_drawing_during_the_play_stops_it_and_keeps_the_stroke(qtbot, panels: tuple[PadPanel, FoolPanel],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    pad_panel, fool = panels
    monkeypatch.setattr(fool_panel_module, "PLAY_INTERVAL_MS", 200)
    fool.make_it_say(None)
    qtbot.waitUntil(lambda: fool._play_timer.isActive(), timeout=20000)
    drag(qtbot, pad_panel.pad, [(0.05, 0.9), (0.3, 0.9)])
    assert not fool.is_playing()
    kept = pad_panel.image()
    assert not fool.undo_button.isEnabled()           # undo would take the stroke away: not offered
    qtbot.wait(300)
    assert np.array_equal(pad_panel.image(), kept)


def test_make_it_unsure(qtbot, panels: tuple[PadPanel, FoolPanel], network: Network) -> None:
    pad_panel, fool = panels
    qtbot.mouseClick(fool.unsure_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not fool.is_playing(), timeout=20000)
    outputs = network.predict_proba(pad_panel.image()[None].astype(float))[0]
    assert outputs.max() < 0.5
    assert "unsure" in fool.status_label.text()


def test_fooling_image_beside_the_nearest_training_sample(qtbot, panels: tuple[PadPanel, FoolPanel],
                                                          network: Network, monkeypatch: pytest.MonkeyPatch) -> None:
    # This tiny network is never 99% sure: a short climb from the blank pad keeps the test quick.
    monkeypatch.setattr(fool_panel_module, "FOOLING_MAX_STEPS", 40)
    monkeypatch.setattr(fool_panel_module, "FOOLING_RESTARTS", 0)
    pad_panel, fool = panels
    fool.set_target(None)
    assert not fool.fooling_image_button.isEnabled()   # it needs a digit
    fool.set_target(4)
    qtbot.mouseClick(fool.fooling_image_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not fool.is_playing(), timeout=30000)
    result = fool.last_result()
    image = pad_panel.image()
    assert np.array_equal(image, result.image) and np.count_nonzero(image) == result.count   # from blank
    outputs = network.predict_proba(image[None].astype(float))[0]
    assert f"{outputs[4]:.1%}" in fool.status_label.text()
    train = tiny_dataset(10, 5).train
    index, distance = fooling.nearest_sample(train.images, image)
    assert f"({train.names[index]}, a {train.labels[index]}), {distance} of 1,024" in fool._comparison_text.text()
    assert fool._comparison.isVisible()


def test_the_pad_paints_the_overlay_over_its_cells(qtbot) -> None:
    from studio.gui.paint_pad import PaintPad, overlay_colors
    colours = overlay_colors(np.array([-2.0, -1.0, 0.0, 0.5, 1.0, np.nan]), 1.0)
    assert colours[0, 2] > colours[0, 0] and colours[4, 0] > colours[4, 2]      # blue below 0, red above
    assert list(colours[:, 3]) == [255, 255, 0, 128, 255, 0]                    # |value| sets opacity
    pad = PaintPad()
    qtbot.addWidget(pad)
    pad.resize(330, 330)
    pad.show()
    qtbot.waitExposed(pad)
    with pytest.raises(ValueError, match="1024"):
        pad.set_overlay(np.zeros(10))
    values = np.full(1024, np.nan)
    values[0], values[33] = 1.0, -1.0                  # cell (0, 0) red, cell (1, 1) blue
    pad.set_overlay(values, 1.0)
    picture = pad.grab().toImage()
    rect, cell = pad.grid_rect(), pad.grid_rect().width() / 32

    def centre(row: int, col: int):
        return picture.pixelColor(int(rect.left() + (col + 0.5) * cell), int(rect.top() + (row + 0.5) * cell))
    red, blue, paper = centre(0, 0), centre(1, 1), centre(2, 2)
    assert red.red() > 150 and red.blue() < 100
    assert blue.blue() > 150 and blue.red() < 100
    assert paper.red() == paper.green() == paper.blue() == 255
    pad.set_overlay(None)
    assert pad.overlay() is None
    picture = pad.grab().toImage()
    assert centre(0, 0).red() == centre(0, 0).blue() == 255
