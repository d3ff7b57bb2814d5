"""The composition root: builds the process-wide clients and one engine per kind (its adapters, in dependency order).

Nothing below this package builds adapters; the engine (``reconcile``) knows none of them.
"""
