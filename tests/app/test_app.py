"""Start-up of the studio: the display check and the order data sets are tried in."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.paths import DEFAULT_DATASET
from studio.gui import app


def test_no_display_gives_one_line_saying_what_to_do(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(app.sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert app.main([]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "xvfb-run" in err and "DISPLAY" in err


@pytest.mark.parametrize("env", [{"DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0"},
                                 {"QT_QPA_PLATFORM": "offscreen"}])
def test_a_display_or_a_chosen_platform_is_enough(monkeypatch: pytest.MonkeyPatch, env: dict) -> None:
    monkeypatch.setattr(app.sys, "platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert app.missing_display() is None


def test_startup_tries_the_given_data_then_the_built_in_then_the_last(tmp_path: Path) -> None:
    given, last = tmp_path / "given", tmp_path / "last"
    candidates = app.startup_datasets(str(given), str(last))
    expected = [given] + ([DEFAULT_DATASET] if DEFAULT_DATASET.exists() else []) + [last]
    assert candidates == expected


def test_the_data_option_names_every_kind_of_source() -> None:
    text = " ".join(app.build_parser().format_help().split())
    for kind in ("trainingDigits/", ".zip", "MNIST IDX", "class folders 0/ to 9/"):
        assert kind in text
