"""The ``steward phones parse`` command (no database needed)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from steward.phones.cli import phones_app

runner = CliRunner()


def test_parse_prints_the_verdict_as_json():
    result = runner.invoke(phones_app, ["parse", "07400 123456", "--region", "GB"])
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert verdict["status"] == "valid"
    assert verdict["e164"] == "+447400123456"
    assert verdict["number_type"] == "mobile"


def test_parse_reports_a_bad_default_region():
    result = runner.invoke(phones_app, ["parse", "123", "--default-region", "XX"])
    assert result.exit_code == 2
