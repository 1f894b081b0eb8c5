"""The value open exceptions hold back, read with the translators `pssync sync` uses (each
connector's mapping with pssync.yaml's crosswalks), for `pssync forecast` and the API."""

from __future__ import annotations

from pssync.config.settings import Settings
from pssync.forecast.held_back import HeldBackLine, held_back
from pssync.governance.exceptions import ExceptionStore
from pssync.mapping.translator import Translator
from pssync.runtime.mappings import mapping_spec
from pssync.store import GoldenStore
from pssync.store.problems import ACTIVE


def translators(settings: Settings | None) -> dict[str, Translator]:
    out: dict[str, Translator] = {}
    for name in settings.connectors if settings else ():
        assert settings is not None
        try:
            spec = mapping_spec(settings, name)
        except (OSError, ValueError):  # an unreadable mapping: `config check` names it
            continue
        if spec is not None:
            out[name] = Translator(spec)
    return out


def held_back_now(store: GoldenStore, settings: Settings | None) -> list[HeldBackLine]:
    """The lines of value held back by the exceptions open now."""
    found = ExceptionStore(store.engine).find(states=[s.value for s in ACTIVE])
    return held_back([e for e in found if e.payload], translators(settings))
