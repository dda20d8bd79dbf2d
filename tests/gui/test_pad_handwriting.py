"""A new user's mouse-drawn digits: how many does the `best` network read on the pad?

Trains the `best` preset once on the built-in synthetic set (what a new user trains first) and once on
the tutorial's real trainingDigits (skipped without ../shared), each with ``EPOCHS`` epochs instead of
the preset's to keep this test short (the learning rate decays over those epochs), then draws each digit
0-9 in three styles (``handwriting.DRAWINGS``: a 6 with a big open loop, a crossed 7, a 1 with a flag,
a 4 open at the top, small off-centre digits...) on the pad with Qt mouse events and counts the
digits the panel's prediction gets right, with "Normalise like the data" on (the default) and off.

Measured when this test was written (seed 0, these 31 drawings, 30 epochs, real trainingDigits): the
`best` preset before augmentation read 24 of them as drawn and 29 normalised; with augmentation and a
constant learning rate, 27 as drawn and 29 normalised. The current preset (linear decay), 28 as drawn
and 29 normalised (misread: the 1 with a flag and a base as 2, a small 8 as 0); trained for its full
120 epochs, 30 normalised (the 1 with a flag and a base is still a 2: the tutorial's 1s are bars that
seldom have a base). On the built-in set: 29 as drawn and all 31 normalised, at 30 and at 120 epochs.
The floor sits between the old 24 and the current 29.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from studio.core.data import Dataset
from studio.core.digit_folders import load_dataset
from studio.core.network import Network
from studio.core.paths import DEFAULT_DATASET
from studio.core.training import PRESETS, RunFinished, train
from studio.gui.pad_panel import PadPanel
from tests.conftest import DIGITS, require_shared
from tests.gui.handwriting import DRAWINGS, draw

#: Epochs of the `best` preset trained here (the preset itself trains longer).
EPOCHS = 30
#: Drawings the default network must read correctly (of 30) with the pad normalised.
FLOOR = 28


@pytest.fixture(scope="module", params=["built-in", "tutorial"])
def trained(request) -> tuple[Dataset, Network]:
    """(data set, the `best` network trained on it for ``EPOCHS`` epochs)."""
    dataset = load_dataset(DEFAULT_DATASET if request.param == "built-in" else require_shared(DIGITS))
    config = replace(PRESETS["best"], max_epochs=EPOCHS)
    network = config.build_network()
    events = list(train(network, dataset, config))
    assert events[-1] == RunFinished(EPOCHS, "max_epochs")
    return dataset, network


def read_all(qtbot, panel: PadPanel) -> list[tuple[int, str, int | None]]:
    """(label, style, predicted digit) for every drawing, drawn afresh on the cleared pad."""
    results = []
    for label, style, strokes in DRAWINGS:
        panel.clear()
        draw(qtbot, panel.pad, strokes)
        assert panel.image().any()
        results.append((label, style, panel.prediction_view.predicted_digit()))
    return results


def test_the_best_network_reads_a_new_users_drawings(qtbot, trained: tuple[Dataset, Network]) -> None:
    dataset, network = trained
    panel = PadPanel()
    qtbot.addWidget(panel)
    panel.resize(760, 420)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_dataset(dataset)
    panel.set_network(network)

    assert panel.input_preview.normalising()
    normalised = read_all(qtbot, panel)
    panel.input_preview.set_normalising(False)
    raw = read_all(qtbot, panel)

    def summary(results: list[tuple[int, str, int | None]]) -> tuple[int, str]:
        wrong = [f"{label} ({style}) read as {seen}" for label, style, seen in results if seen != label]
        return len(results) - len(wrong), "; ".join(wrong) or "none"

    right, wrong = summary(normalised)
    right_raw, wrong_raw = summary(raw)
    print(f"\n`best` preset ({EPOCHS} epochs on {dataset.name}) on {len(DRAWINGS)} mouse-drawn digits: {right} read correctly "
          f"with the pad normalised like the data (misread: {wrong}); {right_raw} without (misread: {wrong_raw})")
    assert right >= FLOOR, wrong
