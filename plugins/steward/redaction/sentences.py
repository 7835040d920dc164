"""Score :func:`steward.redaction.text.redact` on a labelled set of sentences.

Each JSON line has ``text``, ``expected`` (the text after redaction; equal to
``text`` for an ordinary sentence) and ``label`` (``sensitive`` | ``ordinary``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from steward.redaction.text import redact

SENTENCES = Path(__file__).resolve().parents[3] / "tests" / "data" / "redaction_sentences.jsonl"


@dataclass
class SentenceScore:
    sensitive: int
    missed: int  # sensitive sentences not rewritten exactly as expected
    ordinary: int
    falsely_redacted: int  # ordinary sentences changed at all

    @property
    def false_redaction_rate(self) -> float:
        return self.falsely_redacted / self.ordinary if self.ordinary else 0.0

    @property
    def miss_rate(self) -> float:
        return self.missed / self.sensitive if self.sensitive else 0.0


def score(path: Path = SENTENCES) -> SentenceScore:
    sensitive = missed = ordinary = false = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        rewritten = redact(row["text"]).text
        if row["label"] == "sensitive":
            sensitive += 1
            missed += rewritten != row["expected"]
        else:
            ordinary += 1
            false += rewritten != row["text"]
    return SentenceScore(sensitive, missed, ordinary, false)
