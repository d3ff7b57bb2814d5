"""The local test bed: emulated Kubernetes (and, beside it, emulated AWS and PostgreSQL).

Only the ``upskill-operator sandbox`` command and the test suite import this package, and only lazily:
the operator's runtime code never does.
"""
