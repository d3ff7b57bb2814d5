"""The closing table of ``make bench``: every figure the scripts recorded, against issue 19's targets.

    .venv/bin/python bench/summary.py [FIGURES.json]        (default: .bench/figures.json)

Each script merges its figures into the JSON file (``common.record``); this reads them back. A
figure no script recorded in this run shows as "not measured", never as met.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from common import RESULTS, print_table

TARGETS: list[tuple[str, str, str, float]] = [
    ("AWS+Kube writes per table per resync", "tables", "writes_per_table_per_resync", 0.0),
    ("AWS+Kube writes per database per resync", "databases", "writes_per_db_per_resync", 0.0),
    ("AWS reads per table per resync", "tables", "reads_per_table_per_resync", 1.5),
    ("AWS reads per database per resync", "databases", "reads_per_db_per_resync", 5.0),
    ("AWS calls per table created", "tables", "aws_calls_per_table_created", 6.0),
    ("Kubernetes writes per table created", "tables", "kube_writes_per_table_created", 2.0),
    ("tables to Ready / parallel direct boto3 (x)", "tables", "ready_ratio", 2.0),
    ("probe p50 / raw async psycopg p50 (x)", "probes", "p50_ratio", 1.3),
    ("operator peak RSS (MiB)", "tables", "peak_rss_mib", 200.0),
]


def rows(figures: dict[str, dict[str, Any]]) -> list[list[str]]:
    out = []
    for label, section, key, target in TARGETS:
        value = figures.get(section, {}).get(key)
        if label.startswith(("tables to Ready", "operator peak RSS")) and value is not None:
            label = f"{label} at {figures['tables'].get('tables', 0):.0f} tables"
        if value is None:
            out.append([label, "not measured", f"<= {target:g}", "-"])
        else:
            out.append([label, f"{value:.2f}", f"<= {target:g}", "met" if value <= target + 1e-9 else "MISSED"])
    return out


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else RESULTS
    figures = json.loads(path.read_text()) if path.exists() else {}
    print(f"\nissue 19 targets ({path})\n")
    print_table(["figure", "measured", "target", "verdict"], rows(figures))


if __name__ == "__main__":
    main(sys.argv[1:])
