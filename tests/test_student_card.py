"""The student's model card names its teacher as the teacher's card does: a hub id by name, a
local folder (a home folder, a user name) never."""

from __future__ import annotations

import pytest

from textclf.ship.student_card import student_card

SCORES = {
    "accuracy": 0.8,
    "accuracy_low": 0.7,
    "accuracy_high": 0.9,
    "f1_macro": 0.79,
    "f1_macro_low": 0.69,
    "f1_macro_high": 0.89,
}
VERSUS = {
    "rows": 100,
    "accuracy_diff": 0.01,
    "accuracy_diff_low": -0.02,
    "accuracy_diff_high": 0.04,
}


@pytest.mark.parametrize(
    ("teacher", "title"),
    [
        ("/home/ann/models/minilm", "Student of a BERT-family model"),
        ("bert-base-cased", "Student of bert-base-cased"),
    ],
)
def test_the_student_card_never_shows_a_local_path(teacher, title, tmp_path):
    test = {**SCORES, "versus_teacher": VERSUS, "agreement": 0.9}
    card = str(student_card("static", teacher, ["a", "b"], test, SCORES))
    assert "/home/ann" not in card and "ann" not in card.split("---")[1]
    assert f"# {title}\n" in card and f"name: {title}\n" in card
