"""False-redaction and miss rates of the free-text redaction on the labelled sentences.

python benchmarks/redaction_sentences.py [path.jsonl]
"""

from __future__ import annotations

import sys
from pathlib import Path

from steward.redaction.sentences import SENTENCES, score


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else SENTENCES
    result = score(path)
    print(f"sentences: {result.sensitive} sensitive, {result.ordinary} ordinary ({path.name})")
    print(f"missed (sensitive not fully redacted): {result.missed} ({result.miss_rate:.1%})")
    print(
        f"false redactions (ordinary text changed): {result.falsely_redacted}"
        f" ({result.false_redaction_rate:.1%})"
    )


if __name__ == "__main__":
    main()
