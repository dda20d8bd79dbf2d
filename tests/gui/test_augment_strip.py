"""The "what training sees" strip: one digit per class and the copy an epoch trains on."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from studio.core.augment import epoch_images
from studio.core.training import PRESETS
from studio.gui.augment_strip import AugmentStrip
from tests.helpers import tiny_dataset


@pytest.fixture
def strip(qtbot: QtBot) -> AugmentStrip:
    widget = AugmentStrip()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_the_strip_shows_what_an_epoch_trains_on_and_follows_the_settings(qtbot: QtBot, strip: AugmentStrip) -> None:
    dataset = tiny_dataset()
    strip.set_dataset(dataset)
    originals = strip.originals()
    assert len(originals) == 10
    first_of_each = [int(np.argmax(dataset.train.labels == d)) for d in range(10)]
    np.testing.assert_array_equal(originals, dataset.train.images[first_of_each])
    plain = replace(PRESETS["fast"], augment=(), shift=0)
    strip.set_config(plain)
    np.testing.assert_array_equal(strip.shown(), originals)
    assert "no augmentation" in strip.title.text() and not strip.new_draw_button.isEnabled()

    augmented = replace(plain, augment=("rotate", "thickness", "elastic"), seed=4)
    strip.set_config(augmented)
    np.testing.assert_array_equal(strip.shown(), epoch_images(originals, augmented.augment, 0, 4, 1))
    assert not np.array_equal(strip.shown(), originals)
    assert "rotate, thickness, elastic" in strip.title.text()
    first_draw = strip.shown()
    qtbot.mouseClick(strip.new_draw_button, Qt.MouseButton.LeftButton)
    assert strip.epoch() == 2
    np.testing.assert_array_equal(strip.shown(), epoch_images(originals, augmented.augment, 0, 4, 2))
    assert not np.array_equal(strip.shown(), first_draw)
    strip.set_config(replace(augmented, lr=0.5))                # not an augmentation setting: same draw
    assert strip.epoch() == 2
    strip.set_config(replace(augmented, shift=2))               # a new setting: from epoch 1 again
    assert strip.epoch() == 1

    strip.set_dataset(None)
    assert len(strip.shown()) == 0 and not strip.new_draw_button.isEnabled()
