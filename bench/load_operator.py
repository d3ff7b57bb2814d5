"""The operator process of bench/load.py: ``upskill-operator run``, with the client-side rate limits replaced.

``upskill-operator run`` reads every setting from ``UPSKILL_*`` variables, but the per-service
limits (``aws.calls_per_second``) have no variable: they are real-account guards, not a knob for
operators. To show what they cost, the bench runs this file instead when ``--rate-limits off`` is
given; it is the same registry and the same ``kopf.operator`` call, with ``BENCH_CALLS_PER_SECOND``
(a JSON object, ``{}`` for none) as the limits.

    python bench/load_operator.py LIVENESS_URL
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import kopf

from upskill_operator.config import Settings
from upskill_operator.handlers import build_registry


def main() -> None:
    settings = Settings.from_env()
    limits = os.environ.get("BENCH_CALLS_PER_SECOND")
    if limits is not None:
        aws = settings.aws.model_copy(update={"calls_per_second": json.loads(limits)})
        settings = settings.model_copy(update={"aws": aws})
    kopf.configure(verbose=False)
    asyncio.run(
        kopf.operator(
            registry=build_registry(settings),
            clusterwide=True,
            standalone=True,
            liveness_endpoint=sys.argv[1],
        )
    )


if __name__ == "__main__":
    main()
