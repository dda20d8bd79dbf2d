"""The paint pad driven with real mouse events: strokes, erasing, clearing and the drawing_changed signal."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.core.drawing import DEFAULT_BRUSH_RADIUS
from studio.gui.paint_pad import PaintPad
from tests.gui.pad_drag import cell_centre, drag


@pytest.fixture
def pad(qtbot) -> PaintPad:
    widget = PaintPad()
    qtbot.addWidget(widget)
    widget.resize(320, 320)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_the_grid_fills_a_square_with_whole_pixel_cells(pad: PaintPad) -> None:
    rect = pad.grid_rect()
    assert rect.width() == rect.height()
    assert rect.width() % 32 == 0 and rect.width() >= 256
    assert pad.rect().contains(rect.toRect())


def test_a_left_drag_inks_the_cells_along_its_path(qtbot, pad: PaintPad) -> None:
    drag(qtbot, pad, [(16, 4), (16, 10), (16, 16), (16, 22), (16, 27)])
    grid = pad.image().reshape(32, 32)
    assert grid[16, 4:28].all()                         # the path
    assert grid[14:19, 6:26].all()                      # 5 cells wide with the default brush
    assert not grid[:12, :].any() and not grid[21:, :].any()


def test_moves_far_apart_still_give_a_continuous_stroke(qtbot, pad: PaintPad) -> None:
    pad.brush_radius = 0.5
    drag(qtbot, pad, [(2, 2), (2, 29), (29, 29)])          # two long jumps, no points in between
    grid = pad.image().reshape(32, 32)
    assert grid[2, 2:30].all()
    assert grid[2:30, 29].all()
    assert grid.sum() == 28 + 27                           # a one-cell line, nothing else


def test_a_click_paints_a_disc_where_it_was_clicked(qtbot, pad: PaintPad) -> None:
    qtbot.mouseClick(pad, Qt.MouseButton.LeftButton, pos=cell_centre(pad, 7, 20))
    grid = pad.image().reshape(32, 32)
    rows, cols = np.nonzero(grid)
    assert grid[7, 20] == 1
    assert rows.mean() == pytest.approx(7) and cols.mean() == pytest.approx(20)
    assert grid.sum() == 21            # cells whose centre is within 2.5 of the centre of (7, 20)


def test_a_right_drag_erases_with_the_same_brush(qtbot, pad: PaintPad) -> None:
    pad.set_image(np.ones(1024, dtype=np.uint8))
    drag(qtbot, pad, [(16, 4), (16, 16), (16, 27)], button=Qt.MouseButton.RightButton)
    grid = pad.image().reshape(32, 32)
    assert not grid[14:19, 6:26].any()
    assert grid[:12, :].all() and grid[21:, :].all()
    erased = 1024 - int(grid.sum())
    drawn = PaintPad()
    qtbot.addWidget(drawn)
    drawn.resize(320, 320)
    drawn.show()
    drag(qtbot, drawn, [(16, 4), (16, 16), (16, 27)])
    assert erased == int(drawn.image().sum())              # same brush, same footprint


def test_the_last_state_is_always_emitted_on_release(qtbot, pad: PaintPad) -> None:
    emitted: list[np.ndarray] = []
    pad.drawing_changed.connect(emitted.append)
    # Many quick moves (well under the 30 ms throttle), each adding cells.
    drag(qtbot, pad, [(4, c) for c in range(3, 29)] + [(c, 28) for c in range(5, 29)])
    assert emitted, "a stroke must emit drawing_changed"
    assert emitted[-1].shape == (1024,) and emitted[-1].dtype == np.uint8
    np.testing.assert_array_equal(emitted[-1], pad.image())
    assert pad.image().reshape(32, 32)[28, 28] == 1


def test_a_pause_mid_stroke_sends_the_current_state_without_waiting_for_release(
        qtbot, pad: PaintPad) -> None:
    emitted: list[np.ndarray] = []
    pad.drawing_changed.connect(emitted.append)
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=cell_centre(pad, 10, 5))
    try:
        for col in range(6, 27):
            qtbot.mouseMove(pad, cell_centre(pad, 10, col))
        qtbot.waitUntil(lambda: np.array_equal(emitted[-1], pad.image()), timeout=1000)
        assert pad.image().reshape(32, 32)[10, 26] == 1
    finally:
        qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=cell_centre(pad, 10, 26))


def test_emitted_arrays_are_copies(qtbot, pad: PaintPad) -> None:
    emitted: list[np.ndarray] = []
    pad.drawing_changed.connect(emitted.append)
    drag(qtbot, pad, [(10, 10), (10, 20)])
    first = emitted[-1].copy()
    drag(qtbot, pad, [(25, 5), (25, 25)])
    np.testing.assert_array_equal(emitted[-2], first)      # the later stroke did not change it


def test_clear_empties_the_pad_and_says_so(qtbot, pad: PaintPad) -> None:
    drag(qtbot, pad, [(10, 10), (20, 20)])
    assert pad.image().any()
    with qtbot.waitSignal(pad.drawing_changed, timeout=1000) as blocker:
        pad.clear()
    assert not pad.image().any()
    assert not blocker.args[0].any()


def test_set_image_round_trips_and_image_returns_a_copy(pad: PaintPad) -> None:
    image = (np.random.default_rng(3).random(1024) < 0.3).astype(np.uint8)
    pad.set_image(image)
    got = pad.image()
    np.testing.assert_array_equal(got, image)
    got[:] = 0
    np.testing.assert_array_equal(pad.image(), image)


@pytest.mark.parametrize("bad", [np.zeros(1000, dtype=np.uint8), np.full(1024, 2, dtype=np.uint8)])
def test_set_image_refuses_what_is_not_a_drawing(pad: PaintPad, bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        pad.set_image(bad)
    assert not pad.image().any()


def test_brush_radius_is_settable_and_checked(qtbot, pad: PaintPad) -> None:
    assert pad.brush_radius == DEFAULT_BRUSH_RADIUS
    pad.brush_radius = 1.2
    qtbot.mouseClick(pad, Qt.MouseButton.LeftButton, pos=cell_centre(pad, 10, 10))
    grid = pad.image().reshape(32, 32)
    assert grid.sum() == 5 and grid[9:12, 10].all() and grid[10, 9:12].all()   # a plus sign
    with pytest.raises(ValueError):
        pad.brush_radius = 0.0
    assert pad.brush_radius == 1.2


def test_the_tooltip_explains_the_buttons(pad: PaintPad) -> None:
    tip = pad.toolTip().lower()
    assert "left" in tip and "draw" in tip and "right" in tip and "erase" in tip


def test_the_pad_looks_like_a_grid(pad: PaintPad) -> None:
    pad.set_image(np.eye(32, dtype=np.uint8)[::-1].reshape(-1))    # the anti-diagonal
    picture = pad.grab().toImage()
    rect = pad.grid_rect()
    cell = rect.width() / 32

    def colour(row: int, col: int) -> int:
        p = picture.pixelColor(int(rect.left() + (col + 0.5) * cell), int(rect.top() + (row + 0.5) * cell))
        return p.lightness()

    assert colour(0, 31) < 30 and colour(31, 0) < 30            # ink is black
    assert colour(0, 0) > 225 and colour(16, 3) > 225          # paper is white
