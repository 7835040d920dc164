"""Accuracy of de-duplication against the seed's planted duplicates.

For tests and benchmarks only: it reads ``steward_ground_truth``, which the
nightly jobs never do. A *true pair* is two customer records of one planted
cluster; the predicted pairs are compared to them in SQL and only counts come
back.

Three predictions are scored:

``pairs``
    scored pairs at or above the clustering threshold (``customer_match_pairs``);
``candidate_pairs``
    every stored pair (at or above the lower prediction threshold);
``clusters``
    every pair of records that share a cluster (what stewards review; connected
    components can join records no single pair linked).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa

from steward.dedupe import model
from steward.dedupe.linkage import CLUSTERS_TABLE, OUTPUT_SCHEMA, PAIRS_TABLE

GROUND_TRUTH_TABLE = "steward_ground_truth.duplicate_customers"

_TRUE_PAIRS = f"""
    select least(a.customer_id, b.customer_id) as id_l,
           greatest(a.customer_id, b.customer_id) as id_r
    from {GROUND_TRUTH_TABLE} as a
    join {GROUND_TRUTH_TABLE} as b
      on a.cluster_id = b.cluster_id and a.customer_id < b.customer_id
"""
_PREDICTIONS = {
    "pairs": f"""
        select customer_id_l as id_l, customer_id_r as id_r
        from {OUTPUT_SCHEMA}.{PAIRS_TABLE} where match_probability >= :cluster_threshold
    """,
    "candidate_pairs": f"""
        select customer_id_l as id_l, customer_id_r as id_r from {OUTPUT_SCHEMA}.{PAIRS_TABLE}
    """,
    "clusters": f"""
        select a.customer_id as id_l, b.customer_id as id_r
        from {OUTPUT_SCHEMA}.{CLUSTERS_TABLE} as a
        join {OUTPUT_SCHEMA}.{CLUSTERS_TABLE} as b
          on a.cluster_id = b.cluster_id and a.customer_id < b.customer_id
    """,
}


@dataclass(frozen=True)
class PairScore:
    """Pair precision and recall of one kind of prediction."""

    predicted: int
    true: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true if self.true else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def score_pairs(engine: sa.Engine, kind: str = "pairs") -> PairScore:
    """Score the stored predictions of ``kind`` (see the module doc) in SQL."""
    predicted_sql = _PREDICTIONS[kind]
    query = sa.text(
        f"with truth as ({_TRUE_PAIRS}), predicted as ({predicted_sql})"
        " select (select count(*) from predicted), (select count(*) from truth),"
        " (select count(*) from predicted as p join truth as t"
        "  on p.id_l = t.id_l and p.id_r = t.id_r)"
    )
    with engine.connect() as connection:
        predicted, true, hits = connection.execute(
            query, {"cluster_threshold": model.CLUSTER_THRESHOLD}
        ).one()
    return PairScore(predicted=int(predicted), true=int(true), true_positives=int(hits))


def evaluate(url: str | None = None) -> dict[str, dict]:
    """Precision and recall of every kind of prediction (counts and ratios only)."""
    from steward import warehouse

    engine = warehouse.engine(url)
    return {kind: score_pairs(engine, kind).as_dict() for kind in _PREDICTIONS}
