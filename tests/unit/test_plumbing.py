"""Small pieces with sharp edges: settings from the environment, the rate limiter, the requeue log filter."""

from __future__ import annotations

import logging

import pytest

from upskill_operator.aws.session import RateLimiter
from upskill_operator.config import Settings
from upskill_operator.handlers.logs import RequeueFilter
from upskill_operator.handlers.resource import REQUEUE_PREFIX


def test_settings_from_env() -> None:
    settings = Settings.from_env(
        {
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
            "UPSKILL_RESYNC_SECONDS": "42",
            "UPSKILL_NAMESPACES": "a, b,,",
            "KUBECONFIG": "/k",
            "UPSKILL_PROXY_ROLE_BOUNDARY_ARN": "arn:aws:iam::1:policy/upskill-proxy-role-boundary",
        }
    )
    assert settings.aws.region == "eu-west-1"
    assert settings.aws.endpoint_url == "http://127.0.0.1:1"
    assert settings.resync_seconds == 42
    assert settings.namespaces == ("a", "b")
    assert settings.kubeconfig == "/k"
    assert settings.proxy_role_boundary_arn == "arn:aws:iam::1:policy/upskill-proxy-role-boundary"
    assert Settings.from_env({}).proxy_role_boundary_arn is None


def test_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="resync_seconds"):
        Settings.from_env({"UPSKILL_RESYNC_SECONDS": "-1"})


def test_rate_limiter_spaces_calls_beyond_the_burst() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=10, burst=2, clock=lambda: now[0])
    assert [limiter.delay() for _ in range(2)] == [0.0, 0.0]
    assert limiter.delay() == pytest.approx(0.1)
    assert limiter.delay() == pytest.approx(0.2)
    now[0] = 10.0  # tokens refill up to the burst only
    assert limiter.delay() == 0.0
    assert limiter.delay() == 0.0
    assert limiter.delay() == pytest.approx(0.1)


def _record(message: str, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("kopf.objects", level, __file__, 1, message, (), None)


def test_requeue_is_logged_at_info_but_real_errors_stay_errors() -> None:
    log_filter = RequeueFilter(REQUEUE_PREFIX)
    requeue = _record(f"Handler 'reconcile' failed temporarily: {REQUEUE_PREFIX}table: CREATING")
    failure = _record("Handler 'reconcile' failed temporarily: dynamodb:UpdateTable failed with Throttling")
    assert log_filter.filter(requeue)
    assert log_filter.filter(failure)
    assert requeue.levelno == logging.INFO
    assert requeue.getMessage() == "Handler 'reconcile' requeued: table: CREATING"
    assert failure.levelno == logging.ERROR


def test_a_pass_sees_the_status_this_process_wrote_until_the_body_catches_up() -> None:
    import kopf

    from upskill_operator.handlers.resource import remember_written, snapshot_of

    memo = kopf.Memo()
    stale = kopf.Body({"metadata": {"name": "x"}, "status": {"lastSyncTime": "T1", "rotationRequest": None}})
    remember_written(memo, {"lastSyncTime": "T2", "rotationRequest": "now"})
    assert snapshot_of(stale, memo)["status"] == {"lastSyncTime": "T2", "rotationRequest": "now"}
    caught_up = kopf.Body({"metadata": {"name": "x"}, "status": {"lastSyncTime": "T2", "latency": {"p99Ms": 1}}})
    assert snapshot_of(caught_up, memo)["status"] == {"lastSyncTime": "T2", "latency": {"p99Ms": 1}}
    assert stale["status"]["rotationRequest"] is None  # the live body is never modified
