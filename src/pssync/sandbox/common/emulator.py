"""The shape every emulator shares, so `pssync sandbox up`, tests and the demo treat them alike.

A subclass builds its vendor's ASGI app over an ObjectStore, loads a system view from the
synthetic firm (`seed`), and says which credentials a client needs. This base wires in fault
injection and request counting, and runs the app on loopback (HTTPS when `tls` is set).
"""

from __future__ import annotations

import abc
import tempfile
from pathlib import Path
from typing import Any

from pssync.sandbox.common.faults import ASGIApp, FaultConfig, FaultInjector
from pssync.sandbox.common.objects import ObjectStore
from pssync.sandbox.common.runner import ServerThread, TlsFiles, make_tls


class Emulator(abc.ABC):
    """Base of the sandbox systems. Subclasses set `name` and implement the abstract methods."""

    name: str = "emulator"
    use_tls: bool = False
    quota_status: int = 429

    def __init__(
        self,
        *,
        state_dir: Path | None = None,
        faults: FaultConfig | None = None,
        port: int | None = None,
    ) -> None:
        self.state_dir = state_dir or Path(tempfile.mkdtemp(prefix=f"pssync-{self.name}-"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.store = ObjectStore(self.state_dir / "state.sqlite")
        self.faults = faults or FaultConfig()
        self.injector = FaultInjector(
            self.build_app(), self.error_body, self.faults, quota_status=self.quota_status
        )
        self.tls: TlsFiles | None = make_tls(self.state_dir / "tls") if self.use_tls else None
        self._server = ServerThread(self.injector, port=port, tls=self.tls)

    @abc.abstractmethod
    def build_app(self) -> ASGIApp:
        """The vendor's HTTP API as an ASGI app over `self.store`."""

    @abc.abstractmethod
    def error_body(self, status: int, reason: str) -> tuple[str, bytes]:
        """(content type, body) of an error in the vendor's documented format."""

    @abc.abstractmethod
    def seed(self, view: dict[str, list[dict[str, Any]]]) -> None:
        """Load this system's view of the synthetic firm (``firm.views[self.name]``)."""

    @abc.abstractmethod
    def credentials(self) -> dict[str, str]:
        """What a client needs besides the base URL (tokens, keys, users)."""

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def describe(self) -> dict[str, Any]:
        """One system's entry in `pssync sandbox up --json`."""
        info: dict[str, Any] = {"base_url": self.base_url, "credentials": self.credentials()}
        if self.tls is not None:
            info["ca_file"] = str(self.tls.ca_file)
        return info

    def start(self) -> Emulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
