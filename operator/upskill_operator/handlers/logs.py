"""Keep requeues (waiting for AWS) out of the error log and the Kubernetes events.

kopf reports every TemporaryError at ERROR level. A requeue is normal progress,
so records whose message carries the requeue marker are lowered to INFO.
"""

from __future__ import annotations

import logging

__all__ = ["RequeueFilter", "install"]


class RequeueFilter(logging.Filter):
    def __init__(self, marker: str) -> None:
        super().__init__()
        self._needle = f"failed temporarily: {marker}"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and self._needle in record.getMessage():
            record.msg = record.getMessage().replace(self._needle, "requeued: ")
            record.args = ()
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def install(marker: str) -> None:
    logger = logging.getLogger("kopf.objects")
    if not any(isinstance(f, RequeueFilter) for f in logger.filters):
        logger.addFilter(RequeueFilter(marker))
