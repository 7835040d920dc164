"""The `steward retention` Typer app: commands exist, and `policies` validates offline."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from steward.retention.cli import retention_app

runner = CliRunner()


def test_policies_lists_every_policy_as_json():
    result = runner.invoke(retention_app, ["policies", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["policy"]: row for row in json.loads(result.output)}
    assert rows["billing.invoices"]["period"] == "7 years"
    assert rows["billing.invoices"]["statutory_minimum"] == "billing_records"
    assert rows["telephony.call_recordings"]["action"] == "delete_file"


def test_run_is_a_dry_run_unless_told_to_apply():
    result = runner.invoke(retention_app, ["run", "--help"])
    assert result.exit_code == 0
    assert "--apply" in result.output and "dry run" in result.output
    for command in ("plan", "approve", "policies"):
        assert runner.invoke(retention_app, [command, "--help"]).exit_code == 0
