"""What a load tells its user: counts, rejects grouped by reason with a few examples, notes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.identity import reason_key

EXAMPLES = 3


@dataclass
class LoadSummary:
    kind: str
    source: str
    rows_in: int = 0
    loaded: int = 0
    rejected: int = 0
    repaired: int = 0
    merged: int = 0
    reasons: Counter = field(default_factory=Counter)
    """Reason (without row detail) → rows."""
    examples: dict[str, list[str]] = field(default_factory=dict)
    """Reason → up to :data:`EXAMPLES` rows as 'row N [id]'."""
    notes: list[str] = field(default_factory=list)

    def add_rejects(self, problems: pd.Series, ids: pd.Series, row_numbers: np.ndarray | None = None) -> None:
        """Group the rows with a reason; ``row_numbers`` are the file's (default: position + 1)."""
        bad = (problems != "").to_numpy(bool)
        numbers = np.arange(1, len(problems) + 1) if row_numbers is None else np.asarray(row_numbers)
        self.rejected = int(bad.sum())
        if not bad.any():
            return
        rows = pd.DataFrame(
            {"reason": problems[bad].str.split("; ").to_numpy(), "row": numbers[bad], "id": ids[bad].to_numpy()}
        ).explode("reason")
        rows["key"] = rows["reason"].map(reason_key)
        for key, group in rows.groupby("key", sort=False):
            self.reasons[key] += len(group)
            self.examples[key] = [
                f"row {r} [{i}]" for r, i in zip(group["row"][:EXAMPLES], group["id"][:EXAMPLES], strict=True)
            ]

    def lines(self) -> list[str]:
        out = [
            f"loaded {self.kind} from {self.source}: {self.rows_in:,} rows read, {self.loaded:,} loaded, "
            f"{self.rejected:,} rejected, {self.repaired:,} repaired"
            + (f", {self.merged:,} merged into other parts" if self.merged else "")
        ]
        for reason, count in self.reasons.most_common():
            examples = self.examples.get(reason, [])
            out.append(f"  rejected {count:,}: {reason}" + (f" — e.g. {', '.join(examples)}" if examples else ""))
        out.extend(f"  note: {note}" for note in self.notes)
        return out
