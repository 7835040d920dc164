"""The registry file's line checker: good lines give ten digits, bad ones a reason."""

from __future__ import annotations

import io

import pytest

from steward.phones.dnc import check_line, check_lines


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2024561111", ("2024561111", "A")),
        ("202,4561111", ("2024561111", "A")),
        (" 202 , 4561111 ", ("2024561111", "A")),
        ("202456111", "wrong_length"),
        ("20245611111", "wrong_length"),
        ("20,24561111", "wrong_length"),
        ("202-456-1111", "punctuation"),
        ("202456111O", "letters"),
        ("CALL ME", "letters"),
        ("٢٠٢٤٥٦١١١١", "non_ascii_digits"),
        ("２０２４５６１１１１", "non_ascii_digits"),
        ("1024561111", "not_a_nanp_number"),  # area codes start with 2-9
        ("2021561111", "not_a_nanp_number"),  # so do exchanges
        ("202,456,1111", "too_many_fields"),
        ("\ufffd\ufffd", "no_digits"),  # undecodable bytes
        ("9" * 10_000, "wrong_length"),
    ],
)
def test_full_list_lines(line, expected):
    assert check_line(line, changes=False, default_action="A") == expected


@pytest.mark.parametrize(
    ("line", "default", "expected"),
    [
        ("2024561111", "A", ("2024561111", "A")),
        ("2024561111", "D", ("2024561111", "D")),
        ("2024561111,D", "A", ("2024561111", "D")),
        ("202,4561111,A", "D", ("2024561111", "A")),
        ("202,4561111,2026-10-20,delete", "A", ("2024561111", "D")),
        ("2024561111,2026-10-20,+", "D", ("2024561111", "A")),
        ("D", "A", "letters"),  # an action alone is not a number
        ("20245611x1,D", "A", "letters"),
    ],
)
def test_change_list_lines(line, default, expected):
    assert check_line(line, changes=True, default_action=default) == expected


def test_check_lines_counts_and_writes_only_good_numbers():
    lines = ["2024561111", "", "   ", "bad", "202,4561112", "123", "2024561111"]
    sink = io.StringIO()
    check, digest = check_lines(lines, changes=False, default_action="A", sink=sink)
    assert check.lines_read == 7
    assert check.blank_lines == 2
    assert check.accepted_lines == 3
    assert dict(check.rejected) == {"letters": 1, "wrong_length": 1}
    assert check.rejected_line_numbers == {"letters": [4], "wrong_length": [6]}
    assert sink.getvalue().splitlines() == [
        "2024561111\tA\t1",
        "2024561112\tA\t5",
        "2024561111\tA\t7",
    ]
    assert len(digest) == 64
