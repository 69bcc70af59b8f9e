"""Which process holds a TCP port, so `make dev` can name it instead of failing obscurely."""

from __future__ import annotations

import socket

import psutil


class PortTaken(RuntimeError):
    """The port is in use; the message names the process holding it when we may see it."""


def listening_ports(pid: int) -> set[int]:
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return set()
    return {connection.laddr.port for connection in connections if connection.status == psutil.CONN_LISTEN}


def holder(port: int) -> str:
    """ "nginx (pid 812)" for the process listening on `port`, or a note that we can't see it."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        connections = []
    for connection in connections:
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
            try:
                process = psutil.Process(connection.pid)
                return f"{process.name()} (pid {connection.pid}: {' '.join(process.cmdline())[:120]})"
            except psutil.Error:
                return f"pid {connection.pid}"
    return "a process this user cannot see (another user's, or a container's)"


def require_free(port: int, variable: str) -> None:
    """Raise `PortTaken` naming the holder unless 127.0.0.1:`port` can be bound now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortTaken(
                f"port {port} is in use by {holder(port)}: stop it, or choose another port with "
                f"`make dev {variable}=<port>`"
            ) from None
