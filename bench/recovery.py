"""Benchmark: restores through the operator against the bare AWS calls, in the sandbox (issue 16).

    .venv/bin/python bench/recovery.py

Two parts, each on a bed of its own, each baseline run on the idle bed (operator stopped):
a UpskillDatabase restored from a cluster snapshot (``recovery_database.py``) and UpskillTables
restored to a point in time and from an on-demand backup (``recovery_table.py``). Each part's script
also runs alone, with its own knobs. Figures go to ``.bench/figures.json`` (``recovery``,
``recovery_table``).
"""

from __future__ import annotations

import recovery_database
import recovery_table

from common import print_table


def main() -> None:
    print("databases (median of 3 restores; the direct side is the restore and modify calls alone)\n")
    print_table(recovery_database.HEADERS, recovery_database.rows())
    print("\ntables (10 per path, the operator's worker count in parallel on the direct side)\n")
    print_table(recovery_table.HEADERS, recovery_table.rows())


if __name__ == "__main__":
    main()
