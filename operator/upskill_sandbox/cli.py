"""The ``upskill-sandbox`` command line: the whole stack on emulators (what ``make sandbox`` runs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="upskill-sandbox",
        description="Start emulated AWS, an emulated Kubernetes API and PostgreSQL, run the "
        "operator, apply manifests/examples/upskill-stack and show resources until Ready.",
    )
    parser.add_argument("--once", action="store_true", help="exit 0 once everything is Ready, 1 on timeout")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds --once waits (default 180)")
    parser.add_argument("--kube-port", type=int, default=16443, help="emulated Kubernetes API port (default 16443)")
    parser.add_argument("--aws-port", type=int, default=14566, help="emulated AWS port (default 14566)")
    parser.add_argument("--metrics-port", type=int, default=19090, help="Prometheus port, 0 to disable (default 19090)")
    parser.add_argument("--workdir", type=Path, default=Path(".sandbox"), help="where the kubeconfig is written")
    parser.add_argument("--manifests", type=Path, default=None, help="folder of resources to apply")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from upskill_sandbox.stack import SandboxOptions, run

    return run(
        SandboxOptions(
            once=args.once,
            timeout=args.timeout,
            kube_port=args.kube_port,
            aws_port=args.aws_port,
            metrics_port=args.metrics_port,
            workdir=args.workdir,
            manifests=args.manifests,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
