"""Façades on botocore ``Stubber``: real request and response validation against the service model, no network."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from botocore.stub import Stubber

from upskill_operator.aws.base import Facade
from upskill_operator.aws.session import AwsClients
from upskill_operator.config import AwsSettings

F = TypeVar("F", bound=Facade)


def stubbed(make: Callable[[AwsClients], F], clients: AwsClients | None = None) -> tuple[F, Stubber]:
    """Build a façade and activate a Stubber on its client. No rate limit, so tests never sleep."""
    clients = clients or AwsClients(AwsSettings(region="us-east-1", max_attempts=1, calls_per_second={}))
    facade = make(clients)
    stubber = Stubber(clients.client(facade.service))  # the same cached client the façade uses
    stubber.activate()
    return facade, stubber
