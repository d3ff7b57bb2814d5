"""Per-service corrections to the generic error classification of :mod:`.errors`.

The generic rules (4xx terminal, throttling, busy and 5xx recoverable) are right for most codes,
but each service has a few where they are wrong: a DB subnet group still in use while its cluster
is being deleted (``InvalidDBSubnetGroupStateFault``), an IAM role whose policies are still being
detached (``DeleteConflict``) or a create that lost a race (``...AlreadyExists``) are waits, not
broken specs. A façade lists them in ``recoverable_codes``; ``terminal_codes`` works the other way
round (a code that is terminal even when an emulator or a proxy answers it with a 5xx).
Codes are compared as :func:`~.errors.classify` records them: the AWS code without dots.
"""

from __future__ import annotations

from typing import Any, ClassVar

from upskill_operator.aws.base import Facade
from upskill_operator.aws.errors import AwsRecoverableError, AwsTerminalError

__all__ = ["ClassifiedFacade"]


class ClassifiedFacade(Facade):
    """A façade whose service-specific codes override the generic classification."""

    recoverable_codes: ClassVar[frozenset[str]] = frozenset()
    terminal_codes: ClassVar[frozenset[str]] = frozenset()

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return super().call(operation, **params)
        except AwsTerminalError as exc:
            if exc.reason in self.recoverable_codes:
                raise AwsRecoverableError(str(exc), reason=exc.reason) from None
            raise
        except AwsRecoverableError as exc:
            if exc.reason in self.terminal_codes:
                raise AwsTerminalError(str(exc), reason=exc.reason) from None
            raise
