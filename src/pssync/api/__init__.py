"""pssync's REST API: FastAPI routes over the golden store, exceptions and forecast versions."""

from pssync.api.app import create_app

__all__ = ["create_app"]
