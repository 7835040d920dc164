from steward import demo


def test_the_demo_says_what_the_redaction_found_in_counts_only(capsys):
    demo._print_redaction(
        {
            "mode": "dry_run",
            "run_id": 3,
            "found": {"payment_card": 13, "us_ssn": 4},
            "rows_changed": 0,
            "held_rows": 1,
            "pci_violations": {"billing.payments.card_number": 67},
            "truncated": {},
            "stopped_by_breaker": None,
        }
    )
    out = capsys.readouterr().out
    assert "Card data in free text: 13 payment_card, 4 us_ssn found" in out
    assert "dry run: nothing changed" in out
    assert "PCI violation: 67 full card numbers in billing.payments.card_number" in out


def test_a_stopped_run_is_reported(capsys):
    demo._print_redaction({"stopped_by_breaker": "plan too large: nothing was changed"})
    assert "plan too large" in capsys.readouterr().out
