"""LocalNetwork: the dev stack's user-defined bridge network (the VPC's local stand-in).

Containers find each other by their network aliases (``postgres``, ``redis``, ``minio``, ``api``); only the
ports published on 127.0.0.1 are reachable from outside the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ..common import Deployment, child
from .common import network_labels


@dataclass(frozen=True)
class LocalNetworkArgs:
    deployment: Deployment


class LocalNetwork(pulumi.ComponentResource):
    """Plain: ``network_name`` (``<prefix>``). Output: ``name`` (depend on it to attach a container)."""

    name: pulumi.Output[str]

    def __init__(self, name: str, args: LocalNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("saas:local:Network", name, None, opts)
        d = args.deployment
        self.network_name = d.prefix
        self.network = docker.Network(
            f"{name}-net",
            name=self.network_name,
            driver="bridge",
            labels=network_labels(d),
            opts=child(self),
        )
        self.name = self.network.name
        self.register_outputs({"name": self.name})
