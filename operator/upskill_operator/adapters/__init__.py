"""Adapters, grouped by the custom resource kind that manages them; each implements ``reconcile.protocol.Adapter``.

``shared/`` holds what several kinds use (names, cadenced reads, the connection ConfigMap, the KMS key check);
``database/``, ``secret/`` and ``table/`` hold one kind's adapters and the pure planners beside them
(``*_plan.py``, ``plan.py``, ``state.py``: desired versus observed, no API call).
"""
