"""The ``upskill-operator`` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

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
    from upskill_operator.generate import crds

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


def _iam_policy(args: argparse.Namespace) -> int:
    from upskill_operator.generate import iam_policy as policy

    return policy.run(args.prefix, write=args.write, check=args.check)


def _migrate(args: argparse.Namespace) -> int:
    from upskill_operator.commands import migrate

    return migrate.run(args)


def _check(args: argparse.Namespace) -> int:
    from upskill_operator.commands import check

    return check.run(args)


def _connect(args: argparse.Namespace) -> int:
    from upskill_operator.commands import connect

    return connect.run(args)


def _forward(args: argparse.Namespace) -> int:
    from upskill_operator.commands import connect_forward

    return connect_forward.run(args)


def _add_database_commands(sub: Any) -> None:
    mig = sub.add_parser(
        "migrate",
        help="apply a migration set (replaces npm run setup-db), one line per file",
        description="Apply numbered SQL migrations in order, one transaction per file, each exactly once "
        "(schema_migrations history, advisory lock, checksums). The target is --database-url (default "
        "$DATABASE_URL) or an UpskillDatabase (--database), reached through its read/write endpoint with "
        "the master secret or an IAM token.",
    )
    target = mig.add_mutually_exclusive_group()
    target.add_argument("--database-url", help="libpq URL or conninfo (default: $DATABASE_URL)")
    target.add_argument("--database", metavar="NAME", help="an UpskillDatabase: use its endpoint and credentials")
    mig.add_argument("-n", "--namespace", default="default", help="namespace of --database (default: default)")
    source = mig.add_mutually_exclusive_group()
    source.add_argument("--set", choices=("betterauth", "course"), help="a built-in set")
    source.add_argument("--dir", type=Path, help="a folder of NNNN_name.sql files")
    mig.add_argument("--dry-run", action="store_true", help="list what would be applied; change nothing")
    mig.add_argument("--migrations-dir", type=Path, help="where the built-in sets live (default: ./migrations)")
    mig.add_argument("--kubeconfig", type=Path, help="kubeconfig for --database (default: $KUBECONFIG)")
    mig.set_defaults(func=_migrate)

    chk = sub.add_parser(
        "check",
        help="probe every database and table endpoint in a namespace; exit 1 on failure or a broken SLO",
        description="Connect through every endpoint of every UpskillDatabase and UpskillTable in a namespace "
        "and print latency and result. Exits 1 when an endpoint fails or its p99 is above its objective.",
    )
    chk.add_argument("-n", "--namespace", default="default", help="namespace to check (default: default)")
    chk.add_argument("--samples", type=int, default=5, help="probes per endpoint (default 5)")
    chk.add_argument("--timeout", type=float, default=5.0, help="seconds per probe (default 5)")
    chk.add_argument("--kubeconfig", type=Path, help="kubeconfig (default: $KUBECONFIG)")
    chk.set_defaults(func=_check)


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
    iam = sub.add_parser(
        "iam-policy",
        help="print, --write or --check the IAM policy the AWS façades need",
        description="The IRSA policy, derived from the AWS façades (see upskill_operator/generate/iam_policy.py).",
    )
    iam.add_argument("--prefix", default="upskill", help="AWS name prefix (UPSKILL_NAME_PREFIX; default upskill)")
    iam.add_argument("--write", type=Path, help="write the policy to this file")
    iam.add_argument("--check", type=Path, help="exit 1 when this file differs; print missing and extra actions")
    iam.set_defaults(func=_iam_policy)
    _add_database_commands(sub)
    from upskill_operator.commands.connect_cli import add_connect_commands

    add_connect_commands(sub, _connect, _forward)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
