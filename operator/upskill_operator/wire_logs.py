"""Keep HTTP client libraries from logging request and response bodies, which carry secret values.

At DEBUG, botocore logs every request's parameters (``SecretString`` included) and every
response body (GetSecretValue's value included), and the ``kubernetes`` client logs response
bodies (a Secret's data). ``upskill-operator run --verbose`` sets the root logger to DEBUG, so
these loggers would inherit it. :func:`quiet_wire_loggers` pins them at INFO and, because a
level can be lowered again later (a developer's logging config, a test harness), also adds a
filter to each of their existing loggers that drops anything below INFO whatever the level.
"""

from __future__ import annotations

import logging

__all__ = ["WIRE_LOGGERS", "BelowInfoFilter", "quiet_wire_loggers"]

WIRE_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "kubernetes")
"""Top-level loggers of libraries that log wire content at DEBUG."""


class BelowInfoFilter(logging.Filter):
    """Drops DEBUG records: attached to a logger, it applies to every record created on that logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO


_FILTER = BelowInfoFilter()


def _wire_logger_names() -> list[str]:
    known = list(logging.root.manager.loggerDict)
    return [name for name in known if name.split(".", 1)[0] in WIRE_LOGGERS] + list(WIRE_LOGGERS)


def quiet_wire_loggers() -> None:
    """Pin the wire loggers at INFO and filter their DEBUG records. Idempotent; cheap to call again.

    Loggers are created when their modules are imported, so call it after importing boto3 and the
    Kubernetes client (building a façade does); it is called again each time a façade is built.
    """
    for name in _wire_logger_names():
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO if name in WIRE_LOGGERS else logging.NOTSET)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
