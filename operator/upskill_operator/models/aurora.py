"""What Aurora PostgreSQL offers: engine versions, Serverless v2 and auto-pause support, instance classes.

A maintained table, checked by ``tests/unit/test_aurora_offer.py`` against recorded
``DescribeDBEngineVersions`` and ``DescribeOrderableDBInstanceOptions`` answers (``tests/data/aws/``).
When AWS adds or retires a version or class, change the table and the recorded answers together
(record them with ``aws rds describe-db-engine-versions --engine aurora-postgresql`` and
``aws rds describe-orderable-db-instance-options --engine aurora-postgresql --engine-version V``).
Removing a retired minor or class is safe: a resource whose status shows it running (or a higher
minor of the same major, which AWS upgraded to) is still accepted (:func:`covered_by`,
:func:`~upskill_operator.models.rules.running`); only new clusters and changes are refused.

Sources: the Aurora PostgreSQL release notes (versions), "Supported Regions and Aurora DB engines for
Aurora Serverless v2" (the first minor of each major with db.serverless), "Scaling to Zero ACUs with
automatic pause and resume" (the first minor with a minimum of 0 ACU), and "Supported DB engines for DB
instance classes" (classes; the smallest Aurora class is db.t4g.medium or db.t3.medium).
"""

from __future__ import annotations

__all__ = [
    "AUTO_PAUSE_SINCE",
    "INSTANCE_CLASSES",
    "SERVERLESS_CLASS",
    "SERVERLESS_V2_SINCE",
    "VERSIONS",
    "covered_by",
    "instance_class_problem",
    "serverless_problem",
    "supports_auto_pause",
    "supports_serverless_v2",
    "version_problem",
]

VERSIONS: dict[int, tuple[int, ...]] = {
    13: (12, 13, 14, 15, 16, 18, 20, 21),
    14: (9, 10, 11, 12, 13, 15, 17, 18),
    15: (4, 5, 6, 7, 8, 10, 12, 13),
    16: (1, 2, 3, 4, 6, 8, 9),
    17: (4, 5),
}
"""Aurora PostgreSQL versions offered for new clusters: major -> minors."""

SERVERLESS_V2_SINCE = {13: 6, 14: 3, 15: 2, 16: 1, 17: 4}
"""First minor of each major that offers db.serverless instances (Aurora Serverless v2)."""

AUTO_PAUSE_SINCE = {13: 15, 14: 12, 15: 7, 16: 3}
"""First minor of each major that accepts a minimum of 0 ACU (auto-pause); later majors all do."""

SERVERLESS_CLASS = "db.serverless"
"""The class of Serverless v2 instances (never a provisioned class: the instanceClass pattern has three parts)."""

_SIZES_R = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
INSTANCE_CLASSES: dict[str, tuple[str, ...]] = {
    "db.t3": ("medium", "large"),
    "db.t4g": ("medium", "large"),
    "db.r5": (*_SIZES_R, "24xlarge"),
    "db.r6g": _SIZES_R,
    "db.r6gd": _SIZES_R[1:],
    "db.r6i": (*_SIZES_R, "24xlarge", "32xlarge"),
    "db.r6id": (*_SIZES_R[1:], "24xlarge", "32xlarge"),
    "db.r7g": _SIZES_R,
    "db.r7i": (*_SIZES_R, "24xlarge", "48xlarge"),
    "db.r8g": (*_SIZES_R, "24xlarge", "48xlarge"),
    "db.x2g": _SIZES_R,
}
"""Provisioned instance classes orderable for aurora-postgresql: family -> sizes."""


def _parts(version: str) -> tuple[int, int]:
    major, minor = (int(part) for part in version.split(".")[:2])
    return major, minor


def _since(table: dict[int, int], version: str) -> bool:
    major, minor = _parts(version)
    if major > max(table):
        return True
    return major in table and minor >= table[major]


def supports_auto_pause(engine_version: str) -> bool:
    """Whether a minimum of 0 ACU (auto-pause) is accepted by this version."""
    return _since(AUTO_PAUSE_SINCE, engine_version)


def supports_serverless_v2(engine_version: str) -> bool:
    """Whether db.serverless instances are offered with this version."""
    return _since(SERVERLESS_V2_SINCE, engine_version)


def _since_text(table: dict[int, int]) -> str:
    return ", ".join(f"{major}.{minor}" for major, minor in table.items())


def covered_by(version: str, running: object) -> bool:
    """Whether the version AWS reports running (``16.4``, ``16.4.2``) satisfies ``version``: same major, no lower minor.

    The operator does not downgrade a minor AWS upgraded, so such a spec asks for nothing new.
    """
    parts = str(running or "").split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        return False
    major, minor = _parts(version)
    return int(parts[0]) == major and int(parts[1]) >= minor


def version_problem(version: str) -> str | None:
    """Why Aurora PostgreSQL would refuse ``version`` (naming the versions it offers), or None."""
    major, minor = _parts(version)
    if major not in VERSIONS:
        return f"Aurora PostgreSQL does not offer {version}; the majors offered are {', '.join(map(str, VERSIONS))}"
    if minor not in VERSIONS[major]:
        offered = ", ".join(f"{major}.{m}" for m in VERSIONS[major])
        return f"Aurora PostgreSQL does not offer {version}; {major} offers {offered}"
    return None


def serverless_problem(version: str) -> str | None:
    """Why Serverless v2 cannot run ``version``, or None."""
    if supports_serverless_v2(version):
        return None
    return f"Serverless v2 needs engineVersion {_since_text(SERVERLESS_V2_SINCE)} or later (got {version})"


def instance_class_problem(instance_class: str) -> str | None:
    """Why Aurora PostgreSQL would refuse a provisioned ``instance_class``, naming the valid choices, or None."""
    family, _, size = instance_class.rpartition(".")
    if family in INSTANCE_CLASSES and size in INSTANCE_CLASSES[family]:
        return None
    if family in INSTANCE_CLASSES:
        offered = ", ".join(f"{family}.{s}" for s in INSTANCE_CLASSES[family])
        return f"Aurora PostgreSQL does not offer {instance_class}; {family} offers {offered}"
    families = ", ".join(f"{f}.*" for f in INSTANCE_CLASSES)
    return f"Aurora PostgreSQL does not offer {instance_class}; the families offered are {families}"
