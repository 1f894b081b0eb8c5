"""Everything one running API holds: stores, credentials checks, limits. Built once per app.

Routes reach it through the dependencies in `deps.py`, never through globals, so tests can run
several apps (one per temporary database) in one process.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from pssync.api.config import ApiSettings
from pssync.api.forecast_service import ForecastService
from pssync.api.health import HealthProvider, default_providers
from pssync.api.keys import ApiKeyStore
from pssync.api.ratelimit import RateLimiter
from pssync.api.tokens import TokenVerifier
from pssync.config import Settings
from pssync.forecast.analytics import AnalyticsStore
from pssync.governance.exceptions import ExceptionStore
from pssync.governance.notify import exception_store
from pssync.store import GoldenStore, open_engine


@dataclass
class AppContext:
    settings: Settings
    api: ApiSettings
    store: GoldenStore
    exceptions: ExceptionStore
    keys: ApiKeyStore
    forecast: ForecastService
    limiter: RateLimiter
    tokens: TokenVerifier
    session_key: bytes
    health_providers: list[HealthProvider] = field(default_factory=default_providers)

    @classmethod
    def build(cls, settings: Settings, api: ApiSettings) -> AppContext:
        store = GoldenStore(open_engine(settings.database_url))
        analytics = AnalyticsStore(api.analytics_path or settings.analytics_path)
        secret = api.jwt_secret.get_secret_value().encode() if api.jwt_secret else None
        session = api.session_secret.get_secret_value() if api.session_secret else None
        return cls(
            settings=settings,
            api=api,
            store=store,
            exceptions=exception_store(store.engine, settings.exceptions, settings.notify),
            keys=ApiKeyStore(store.engine),
            forecast=ForecastService(
                analytics, store, settings.reporting_currency, api.band_simulations
            ),
            limiter=RateLimiter(api.rate_per_minute, api.rate_burst),
            tokens=TokenVerifier(
                issuer=api.jwt_issuer,
                audience=api.jwt_audience,
                secret=secret,
                public_key_pem=api.jwt_public_key,
            ),
            session_key=(session or secrets.token_hex(32)).encode(),
        )

    def close(self) -> None:
        self.forecast.close()
        self.store.engine.dispose()
