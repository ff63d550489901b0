"""The listening lists: held-out templates and re-phrasings never reach training, every word they use does."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from demo_model.phrasings import (
    heldout_dev_templates,
    heldout_eval_templates,
    random_word_strings,
    read_list,
    training_templates,
    write_lists,
)
from demo_model.sentences import vocabulary

COMMITTED_LISTS = Path(__file__).resolve().parents[2] / "demo_model" / "sentences"
TRAINING_LISTS = ("train", "phrasings_train", "random_train")
HELD_OUT_LISTS = ("eval", "heldout_dev", "heldout_eval", "rephrased_dev", "rephrased_eval", "random_dev", "random_eval")


def _committed(name: str) -> set[str]:
    return set(read_list(COMMITTED_LISTS / f"{name}.txt"))


def test_template_names_are_unique_across_training_and_held_out_groups() -> None:
    rng = random.Random(0)
    names = [name for group in (training_templates, heldout_dev_templates, heldout_eval_templates)
             for name, _, _ in group(rng)]  # fmt: skip
    assert len(names) == len(set(names))


def test_committed_held_out_sentences_are_never_training_text() -> None:
    training = set().union(*(_committed(name) for name in TRAINING_LISTS))
    for name in HELD_OUT_LISTS:
        assert not training & _committed(name), name
    assert not _committed("heldout_dev") & _committed("heldout_eval")
    assert not _committed("rephrased_dev") & _committed("rephrased_eval")


def test_every_held_out_word_is_in_the_vocabulary_and_heard_in_training() -> None:
    words = _committed("vocabulary")
    heard = vocabulary(list(set().union(*(_committed(name) for name in TRAINING_LISTS))))
    for name in HELD_OUT_LISTS:
        assert vocabulary(list(_committed(name))) <= words <= heard, name


def test_write_lists_is_deterministic_and_keeps_held_out_text_out(tmp_path: Path) -> None:
    for name in ("train", "dev", "eval", "rephrased_dev", "rephrased_eval"):
        shutil.copy(COMMITTED_LISTS / f"{name}.txt", tmp_path / f"{name}.txt")
    (tmp_path / "rephrased_eval.txt").write_text("TURN ON THE LAMP IN THE OFFICE\n")  # a training phrasing too
    counts = {"phrasings_train": 800, "heldout_dev": 20, "heldout_eval": 20, "random_train": 50}
    lists = write_lists(tmp_path, seed=5, counts=counts)
    assert write_lists(tmp_path, seed=5, counts=counts) == lists
    assert "TURN ON THE LAMP IN THE OFFICE" not in lists["phrasings_train"]
    assert not set(lists["heldout_eval"]) & set(lists["phrasings_train"])
    assert len(lists["heldout_eval"]) == 20 and len(lists["random_train"]) == 50


def test_random_strings_draw_only_from_the_given_words() -> None:
    strings = random_word_strings(["ON", "OFF", "LAMP"], 30, random.Random(1), low=2, high=4)
    assert all(2 <= len(s.split()) <= 4 and set(s.split()) <= {"ON", "OFF", "LAMP"} for s in strings)
    assert len(set(strings)) > 10
