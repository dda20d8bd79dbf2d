"""The Fragility tab: measures off the GUI thread with progress, compares with a model file, and a click
on one of the easiest samples sends it to the pad."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.core.model_writer import save_model
from studio.gui.fragility_view import FragilityView
from tests.helpers import quick_network, tiny_dataset


@pytest.fixture
def view(qtbot) -> FragilityView:
    widget = FragilityView()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()
    assert widget.runner.thread_count == 0


def test_measure_and_compare_with_a_model_file(qtbot, view: FragilityView, tmp_path: Path) -> None:
    dataset = tiny_dataset(10, 3)
    network = quick_network(epochs=1)
    other = quick_network(epochs=1, hidden=(8,), seed=1)
    save_model(tmp_path / "other.npz", other, {})
    assert not view.measure_button.isEnabled()
    view.set_dataset(dataset)
    view.set_network(network)
    assert view.measure_button.isEnabled()
    assert view.measure(tmp_path / "other.npz", samples=8, cap=40)
    assert view.cancel_button.isEnabled() and not view.measure_button.isEnabled()
    qtbot.waitUntil(lambda: len(view.results()) == 2, timeout=60000)
    assert view.progress.value() == view.progress.maximum() == 16
    (name, mine), (other_name, theirs) = view.results()
    assert name == "this network" and other_name == "other.npz"
    assert np.array_equal(mine.indices, theirs.indices) and len(mine) == 8
    test = dataset.test
    for result, net in ((mine, network), (theirs, other)):
        for i, index in enumerate(result.indices):
            if result.changed[i]:
                flipped = result.flipped[i]
                assert np.count_nonzero(flipped != test.images[index]) == result.flips[i]
                assert net.predict(flipped[None].astype(float))[0] != net.predict(test.images[index][None].astype(float))[0]
    assert "this network: 8 samples" in view.summary_label.text()
    assert "other.npz: 8 samples" in view.summary_label.text()
    assert view.easiest_buttons
    # A click sends the sample to the pad.
    first = view.easiest_buttons[0]
    position = mine.easiest(1)[0]
    with qtbot.waitSignal(view.image_chosen, timeout=1000) as blocker:
        qtbot.mouseClick(first, Qt.MouseButton.LeftButton)
    assert np.array_equal(blocker.args[0], test.images[mine.indices[position]])
    assert f"{mine.flips[position]} flip" in blocker.args[1]


def test_a_bad_model_file_is_reported_not_raised(qtbot, view: FragilityView, tmp_path: Path) -> None:
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    view.set_dataset(tiny_dataset(10, 3))
    view.set_network(quick_network(epochs=1))
    view.measure(tmp_path / "bad.npz", samples=2)
    qtbot.waitUntil(lambda: "Could not measure" in view.status_label.text(), timeout=20000)
    assert "bad.npz" in view.status_label.text()
    assert view.measure_button.isEnabled()


def test_cancel_stops_a_measurement(qtbot, view: FragilityView) -> None:
    view.set_dataset(tiny_dataset(10, 10))
    view.set_network(quick_network(epochs=1))
    view.measure(samples=100, cap=60)
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    assert not view.runner.is_busy and view.measure_button.isEnabled()
    qtbot.wait(200)
    assert view.results() == []
