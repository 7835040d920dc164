import json

import pytest

from steward.catalogue.free_text import pii_kinds
from steward.redaction.sentences import SENTENCES, score
from steward.redaction.text import redact, truncate_card

ROWS = [json.loads(line) for line in SENTENCES.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.parametrize("row", ROWS, ids=[f"{i}-{r['label']}" for i, r in enumerate(ROWS)])
def test_each_labelled_sentence_is_rewritten_as_expected(row):
    assert redact(row["text"]).text == row["expected"]


def test_the_set_scores_no_miss_and_no_false_redaction():
    result = score()
    assert result.sensitive >= 30 and result.ordinary >= 30
    assert (result.missed, result.falsely_redacted) == (0, 0)


def test_counts_name_kinds_never_values():
    result = redact("card 4111 1111 1111 1111, CVV 123, SSN 123-45-6788")
    assert dict(result.counts) == {"payment_card": 1, "cvv": 1, "us_ssn": 1}


def test_redacting_twice_changes_nothing_more():
    once = redact("card 4111-1111-1111-1111 cvc 987 IBAN DE89370400440532013000").text
    again = redact(once)
    assert again.text == once and not again.changed


def test_the_catalogue_no_longer_sees_what_was_redacted():
    text = "Customer: 5555555555554444, social 512-34-9876, IBAN GB82WEST12345698765432"
    assert {"payment_card", "us_ssn", "iban"} <= pii_kinds(text)
    assert not {"payment_card", "us_ssn", "iban"} & pii_kinds(redact(text).text)


def test_truncation_keeps_first_six_and_last_four():
    assert truncate_card("4111 1111 1111 1111") == "411111******1111"
    assert truncate_card("378282246310005") == "378282*****0005"
    assert truncate_card("411111******1111") is None
    assert truncate_card("4111111111111112") is None
