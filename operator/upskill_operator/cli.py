"""The ``upskill-operator`` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

__all__ = ["main"]

_DESCRIPTION = """\
upskill-operator manages the Upskill platform's AWS data layer (Aurora, RDS Proxy,
DynamoDB, Secrets Manager) from Kubernetes custom resources.
"""


def _run(args: argparse.Namespace) -> int:
    import kopf

    from upskill_operator.config import Settings
    from upskill_operator.handlers import build_registry

    settings = Settings.from_env()
    if args.namespace:
        settings = settings.model_copy(update={"namespaces": tuple(args.namespace)})
    kopf.configure(verbose=args.verbose, log_format=kopf.LogFormat.JSON if args.json_logs else kopf.LogFormat.FULL)
    asyncio.run(
        kopf.operator(
            registry=build_registry(settings),
            clusterwide=not settings.namespaces,
            namespaces=settings.namespaces,
            standalone=True,
            liveness_endpoint=args.liveness,
        )
    )
    return 0


def _crds(args: argparse.Namespace) -> int:
    from upskill_operator import crds

    if args.check:
        stale = crds.check(args.dir)
        if stale:
            print("CRDs are stale (run `upskill-operator crds`): " + ", ".join(stale), file=sys.stderr)
            return 1
        print(f"CRDs in {args.dir} are up to date")
        return 0
    for path in crds.write(args.dir):
        print(f"wrote {path}")
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from upskill_operator.sandbox.stack import SandboxOptions, run

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="upskill-operator", description=_DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="run the operator against a real cluster and AWS",
        description="Run the operator. Kubernetes: in-cluster service account, else KUBECONFIG. "
        "AWS: the standard credential chain (IRSA in EKS). Settings: UPSKILL_* variables.",
    )
    run.add_argument("-n", "--namespace", action="append", help="watch only this namespace (repeatable)")
    run.add_argument("--verbose", action="store_true", help="debug logging")
    run.add_argument("--json-logs", action="store_true", help="log as JSON lines")
    run.add_argument("--liveness", default="http://0.0.0.0:8080/healthz", help="kopf liveness endpoint URL")
    run.set_defaults(func=_run)

    crd = sub.add_parser(
        "crds",
        help="write (or --check) the CRD YAML generated from the models",
        description="Generate CustomResourceDefinitions from the pydantic models.",
    )
    crd.add_argument("--dir", type=Path, default=Path("crds"), help="output folder (default: crds)")
    crd.add_argument("--check", action="store_true", help="exit 1 when the committed files differ")
    crd.set_defaults(func=_crds)

    box = sub.add_parser(
        "sandbox",
        help="run the whole stack locally on emulators",
        description="Start emulated AWS, an emulated Kubernetes API and PostgreSQL, run the "
        "operator, apply manifests/examples/upskill-stack and show resources until Ready.",
    )
    box.add_argument("--once", action="store_true", help="exit 0 once everything is Ready, 1 on timeout")
    box.add_argument("--timeout", type=float, default=180.0, help="seconds --once waits (default 180)")
    box.add_argument("--kube-port", type=int, default=16443, help="emulated Kubernetes API port (default 16443)")
    box.add_argument("--aws-port", type=int, default=14566, help="emulated AWS port (default 14566)")
    box.add_argument("--metrics-port", type=int, default=19090, help="Prometheus port, 0 to disable (default 19090)")
    box.add_argument("--workdir", type=Path, default=Path(".sandbox"), help="where the kubeconfig is written")
    box.add_argument("--manifests", type=Path, default=None, help="folder of resources to apply")
    box.set_defaults(func=_sandbox)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
