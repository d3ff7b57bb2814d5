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


def _status(args: argparse.Namespace) -> int:
    from upskill_operator.commands import status

    return status.run(args)


def _add_kubectl_commands(sub: Any) -> None:
    """The developer commands, also served as the kubectl plugin ``kubectl upskill``."""
    from upskill_operator.commands.kubeopts import add_kube_options
    from upskill_operator.commands.status import parse_selector

    st = sub.add_parser(
        "status",
        help="every UpskillDatabase, UpskillTable and UpskillSecret of a namespace: conditions, endpoints, ...",
        description="One screen per namespace: phase and conditions, endpoints, secret versions and rotations, "
        "probe p50/p99 against the objective, migrations, and what each resource that is not Ready waits for. "
        "Reads only the custom resources. Exit 0 when the cluster answered, 1 with the reason otherwise.",
    )
    add_kube_options(st, all_namespaces=True)
    st.add_argument(
        "resources",
        nargs="*",
        metavar="RESOURCE",
        type=parse_selector,
        help="KIND/NAME, KIND (udb, utable, usecret) or NAME; default: all",
    )
    st.add_argument("-o", "--output", choices=("table", "json"), default="table", help="table (default) or json")
    st.add_argument("-w", "--watch", action="store_true", help="redraw until Ctrl-C (json: one document a line)")
    st.add_argument("--interval", type=float, default=2.0, help="seconds between --watch redraws (default 2)")
    st.set_defaults(func=_status)
    from upskill_operator.commands.connect_cli import add_connect_command

    add_connect_command(sub, _connect)


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
    _add_kubectl_commands(sub)
    from upskill_operator.commands.connect_cli import add_forward_command

    add_forward_command(sub, _forward)
    return parser


def _plugin_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl upskill",
        description="kubectl plugin of upskill-operator: the developer commands, with kubectl's -n, --context "
        "and KUBECONFIG.",
    )
    _add_kubectl_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    code: int = args.func(args)
    return code


def kubectl_main(argv: list[str] | None = None) -> int:
    """``kubectl-upskill``: kubectl runs it for ``kubectl upskill ...`` when it is on PATH."""
    args = _plugin_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
