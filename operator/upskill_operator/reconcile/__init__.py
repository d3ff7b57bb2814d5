"""The generic reconcile engine, its adapter protocol and condition bookkeeping."""
