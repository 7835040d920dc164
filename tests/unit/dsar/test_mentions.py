import re

import pytest

from steward.dsar.finder import literal_pattern, phone_mention_pattern


@pytest.mark.parametrize(
    "text",
    [
        "call me at +1 650 253 0000 please",
        "cb# (650) 253-0000",
        "Best number: 650.253.0000 (after 5pm)",
        "it's 1-650-253-0000.",
        "001 650 253 0000",
        "6502530000",
    ],
)
def test_phone_spellings_in_text_match(text):
    assert re.search(phone_mention_pattern("+16502530000"), text)


@pytest.mark.parametrize(
    "text", ["ref 16502530000123", "650 253 0001", "order 96502530000", "no number here"]
)
def test_other_numbers_do_not_match(text):
    assert not re.search(phone_mention_pattern("+16502530000"), text)


def test_uk_number_with_trunk_zero():
    pattern = phone_mention_pattern("+442079460018")
    assert re.search(pattern, "ring 020 7946 0018")
    assert re.search(pattern, "ring +44 (0)20 7946 0018")


def test_literal_pattern_escapes_everything_but_letters_and_digits():
    pattern = literal_pattern("a.b+c@x.io")
    assert re.fullmatch(pattern, "a.b+c@x.io")
    assert not re.fullmatch(pattern, "aXb+c@x.io")
