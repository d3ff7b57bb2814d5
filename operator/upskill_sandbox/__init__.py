"""The local test bed: emulated Kubernetes, emulated AWS and PostgreSQL, and the hooks' instruments.

A top-level package of its own, beside ``upskill_operator``: the ``upskill-sandbox`` command, the test
suite and the benchmarks import it; the operator never does, and the operator's wheel does not carry it.
"""
