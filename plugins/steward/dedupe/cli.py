"""``steward dedupe``: find duplicate customer records, and measure how well it does."""

from __future__ import annotations

import json

import typer

dedupe_app = typer.Typer(help="Customer de-duplication: splink on DuckDB, stewards review.")


@dedupe_app.command("run")
def run(
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
    full: bool = typer.Option(
        False, "--full", help="Retrain and rescore every record, not only new or changed ones."
    ),
) -> None:
    """Score new or changed records' pairs, cluster, update the pair and cluster tables."""
    from steward.dedupe.linkage import find_duplicates

    report = find_duplicates(full=full)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    typer.echo(
        f"{report.records:,} customer records ({report.mode}: {report.changed_records:,} new or "
        f"changed, {report.removed_records:,} removed, {report.scored_pairs:,} pairs scored): "
        f"{report.candidate_pairs:,} candidate pairs, "
        f"{report.clusters:,} clusters holding {report.clustered_records:,} records "
        f"in {report.elapsed_seconds:.1f}s (nothing merged: stewards review)"
    )


@dedupe_app.command("evaluate")
def evaluate(as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """Pair precision and recall against the seed's planted duplicates (seeded warehouses)."""
    from steward.dedupe.evaluate import evaluate as score

    scores = score()
    if as_json:
        typer.echo(json.dumps(scores, indent=2))
        return
    for kind, score_ in scores.items():
        typer.echo(
            f"{kind:16} precision {score_['precision']:.4f}  recall {score_['recall']:.4f}  "
            f"({score_['true_positives']:,} of {score_['predicted']:,} predicted, "
            f"{score_['true']:,} true pairs)"
        )
