"""Lessons: shipped chapters are valid, action links are checked, live values come from the run."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from studio.core.lessons import (ACTIONS, LESSONS_FOLDER, NO_RUN, NO_VALUE, PLACEHOLDERS, Action, LessonError,
                                 compare_choices, load_chapters, parse_action, parse_chapter, read_chapter,
                                 render, settings_from_params)
from studio.core.history import RunHistory
from studio.core.training import PRESETS, EpochFinished, TrainingConfig


def synthetic_history(train_acc: list[float], test_acc: list[float | None] | None = None,
                      losses: list[float] | None = None, config: TrainingConfig = PRESETS["article"]) -> RunHistory:
    history = RunHistory(config)
    for i, acc in enumerate(train_acc):
        test = test_acc[i] if test_acc is not None else None
        history.append(EpochFinished(epoch=i + 1, train_loss=losses[i] if losses else 1.0 / (i + 1),
                                     train_accuracy=acc, test_loss=None if test is None else 0.5,
                                     test_accuracy=test, seconds=0.5, elapsed=0.5 * (i + 1), learning_rate=0.01,
                                     samples=100))
    return history


def test_every_shipped_chapter_parses_with_only_known_actions_and_values() -> None:
    chapters = load_chapters()
    assert [c.number for c in chapters] == list(range(1, 8))
    for chapter in chapters:
        chapter.check()  # raises with file and line for any bad link or live value
        assert chapter.title.startswith(f"{chapter.number} ·")
        assert chapter.links, chapter.name
        assert all(link.action is not None and link.action.name in ACTIONS for link in chapter.links)
    used = {link.action.name for c in chapters for link in c.links}
    assert {"preset", "start", "stop", "tab", "compare", "set", "open-builtin-data", "show-code"} <= used
    tabs = {link.action.params["name"] for c in chapters for link in c.links if link.action.name == "tab"}
    assert {"one-update", "fragility"} <= tabs
    # Every chapter that links to another points at one that exists.
    for chapter in chapters:
        for link in chapter.links:
            if link.action.name == "chapter":
                assert 1 <= int(link.action.params["n"]) <= len(chapters)


def test_the_teachers_readme_documents_every_action_and_live_value() -> None:
    readme = (LESSONS_FOLDER / "README.md").read_text(encoding="utf-8")
    for name in ACTIONS:
        assert f"| `{name}` |" in readme, name
    for name in PLACEHOLDERS:
        assert "{{" + name in readme, name


def test_no_result_is_written_into_a_chapter_as_text() -> None:
    """Results come from the run: a percentage or epoch of the learner's run is never canned. The only
    numbers of this kind allowed are the tutorial's own (98.7%, 1,743 epochs)."""
    for chapter in load_chapters():
        text = re.sub(r"\{\{.*?\}\}", "", chapter.text)
        for percent in re.findall(r"\d+(?:\.\d+)?%", text):
            assert percent in {"98.7%", "100%", "50%", "90%", "97%", "99%"}, (chapter.name, percent)


def test_an_invalid_action_link_is_reported_with_file_line_link_and_the_known_actions(tmp_path: Path) -> None:
    path = tmp_path / "08-mine.md"
    path.write_text("# Mine\n\nFine: [go](action:start).\n\nBad: [fly](action:fly?to=moon) and "
                    "[preset](action:preset?name=fastest).\n{{run.nonsense}}\n", encoding="utf-8")
    chapter = read_chapter(path)
    assert [p.line for p in chapter.problems] == [5, 5, 6]
    first = str(chapter.problems[0])
    assert first.startswith(f"{path}, line 5: bad action link [fly](action:fly?to=moon)")
    assert "unknown action 'fly'" in first and "the known actions are preset, set, start" in first
    assert "name= one of article, best, fast" in str(chapter.problems[1])
    assert "unknown live value {{run.nonsense}}" in str(chapter.problems[2])
    with pytest.raises(LessonError, match="08-mine.md, line 5"):
        chapter.check()
    assert [link.action is not None for link in chapter.links] == [True, False, False]


@pytest.mark.parametrize("url, message", [
    ("action:start?now=1", "takes no parameters"),
    ("action:set?lr=-1", "learning rate must be a number > 0"),
    ("action:set?speed=9", "unknown setting 'speed'"),
    ("action:set", "needs at least one setting"),
    ("action:compare?init=randn,sideways", "'sideways' is not one of"),
    ("action:tab", "needs name="),
    ("action:chapter?n=two", "chapter number"),
    ("action:set?lr=0.1&lr=0.2", "given twice"),
    ("https://example.com", "not an action link"),
])
def test_bad_actions_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_action(url)


def test_actions_parse_into_typed_settings() -> None:
    action = parse_action("action:set?lr=0.1&loss=ce&hidden=32-8&batch=4")
    assert action == Action("set", {"lr": "0.1", "loss": "ce", "hidden": "32-8", "batch": "4"})
    config = settings_from_params(action.params, PRESETS["article"])
    assert (config.lr, config.loss, config.hidden, config.batch_size) == (0.1, "ce", (32, 8), 4)
    assert config.init == "randn"  # everything else as in the base
    assert compare_choices(parse_action("action:compare?init=randn,ones,xavier").params) == \
        {"init": ["randn", "ones", "xavier"]}
    assert parse_action("action:tab?name=one-update").params == {"name": "one-update"}


def test_live_values_render_from_the_run() -> None:
    chapter = parse_chapter("# T\n{{run.epoch_reaching_train_accuracy:0.987}} | {{run.best_test_accuracy}} at "
                            "{{run.best_test_epoch}} | {{run.train_accuracy_sentence:0.987:1743}} | "
                            "{{run.epochs}} | {{run.final_train_accuracy}} | {{ run.settings }}", "t.md")
    assert chapter.problems == ()
    train = [0.5, 0.9, 0.986, 0.9871, 0.99]
    test = [0.4, 0.8, 0.93, 0.95, 0.94]
    text = render(chapter, synthetic_history(train, test))
    assert text == ("# T\nEpoch 4 | 95.0% at 4 | your run passed 98.7% training accuracy at epoch 4 (the "
                    "tutorial's took 1,743 epochs: your run was faster) | 5 | 99.0% | randn, lr 0.01")


def test_a_run_that_has_not_got_there_says_so() -> None:
    chapter = parse_chapter("# T\n{{run.train_accuracy_sentence:0.987}}. {{run.epoch_reaching_test_accuracy:0.99}}",
                            "t.md")
    text = render(chapter, synthetic_history([0.3, 0.6, 0.5], [0.2, 0.4, 0.45]))
    assert text == ("# T\nYour run has not reached 98.7% training accuracy yet (after 3 epochs it is at 50.0%, "
                    "best 60.0%). Not yet")


def test_loss_and_best_test_sentences_follow_the_numbers() -> None:
    chapter = parse_chapter("# T\n{{run.loss_sentence}}. {{run.best_test_sentence}}.", "t.md")
    stalled = synthetic_history([0.1] * 3, [0.1, 0.1, 0.1], losses=[4.5, 4.49, 4.48])
    assert render(chapter, stalled) == ("# T\nYour run's training loss went from 4.500 at epoch 1 to 4.480 at "
                                        "epoch 3: it has hardly moved. Your run's best test accuracy is 10.0%, "
                                        "at epoch 1.")
    learning = synthetic_history([0.5, 0.8], None, losses=[2.0, 0.5])
    assert render(chapter, learning) == ("# T\nYour run's training loss fell from 2.000 at epoch 1 to 0.500 at "
                                         "epoch 2, to 25% of where it started. Your data set has no test split, "
                                         "so there is no test accuracy to report.")


def test_without_a_run_every_live_value_says_so() -> None:
    chapter = load_chapters()[0]
    text = render(chapter, None)
    assert "{{" not in text and NO_RUN.lower() in text.lower() and f"**{NO_VALUE}**" in text
    assert render(parse_chapter("# T\n{{run.epochs}}; {{run.loss_sentence}}", "t.md"), None) == \
        f"# T\n{NO_VALUE}; {NO_RUN}"
    # Mid-sentence a value keeps its small letter; at a sentence's start it gets a capital.
    history = synthetic_history([0.5], [0.4])
    assert render(parse_chapter("# T\n- {{run.loss_sentence}}\nso {{run.loss_sentence}}", "t.md"), history) == \
        "# T\n- Your run's training loss is 1.000 after one epoch\nso your run's training loss is 1.000 after one epoch"
    assert render(chapter, RunHistory(PRESETS["article"])) == text


def test_a_missing_folder_or_an_unreadable_chapter_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LessonError, match="holds no chapters"):
        load_chapters(tmp_path)
    (tmp_path / "01-bad.md").write_bytes(b"# Bad\n\xff\xfe\n")
    with pytest.raises(LessonError, match=r"01-bad.md, line 2: is not UTF-8"):
        load_chapters(tmp_path)
    with pytest.raises(LessonError, match="cannot be read"):
        load_chapters(tmp_path / "missing")
    (tmp_path / "01-bad.md").write_text("no title\n", encoding="utf-8")
    assert "a chapter starts with its title" in str(load_chapters(tmp_path)[0].problems[0])


def test_action_links_are_numbered_in_reading_order_and_done_ones_ticked() -> None:
    from studio.core.lessons import number_action_links, split_link_number
    text = "[a](action:start) [web](https://x.org) [b](action:tab?name=compare)\n[c](action:stop)"
    numbered = number_action_links(text, {1})
    assert numbered == ("[a](action:start#0) [web](https://x.org) [✓ b](action:tab?name=compare#1)\n"
                        "[c](action:stop#2)")
    assert split_link_number("action:tab?name=compare#1") == ("action:tab?name=compare", 1)
    assert split_link_number("action:start") == ("action:start", None)
    chapter = parse_chapter("# T\n" + text, "t.md")
    assert [link.text for link in chapter.links] == ["a", "b", "c"]
