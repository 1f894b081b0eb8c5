"""Routing hook: turn an applied change into outbound commands for target systems.

Business flows (opportunity -> draft project, closed-won handoff, ...) are written elsewhere;
they plug in here by registering a `Route`: a callable that looks at one applied change and
returns `Command`s (target system, object, external ID, canonical payload). The engine only
knows how to deliver commands. One simple built-in route is registered so that delivery is
exercised end to end: canonical Accounts from the CRM go to every ERP as customers
(SAP business partners).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from pssync.engine.ids import external_id
from pssync.engine.runtime import Runtime


@dataclass(frozen=True)
class AppliedChange:
    """A change the pipeline stored in the golden store, as routes see it."""

    system: str
    object: str
    source_id: str
    entity_type: str
    record_id: str
    payload: dict[str, Any]
    event_key: str


@dataclass(frozen=True)
class Command:
    """One upsert to deliver: the canonical payload is rendered for the target at send time,
    so a replay after a fix sends the record as it is then, not as it was.

    `fields`, when set, restricts the payload to those canonical fields whenever it is
    (re)loaded: a write-back (ERP IDs, a delivery date onto the CRM deal) must not re-send the
    fields the target owns. With `fields=[]` only `defaults` are written — the way a flow sends
    a vendor body the generic mapping cannot express (references by external ID, sublists).
    """

    route: str
    target: str
    object: str
    external_id_field: str
    external_id: str
    entity_type: str
    record_id: str
    payload: dict[str, Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    fields: list[str] | None = None

    def __post_init__(self) -> None:
        if self.fields is not None:
            kept = {k: v for k, v in self.payload.items() if k in self.fields}
            object.__setattr__(self, "payload", kept)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Command:
        return cls(**data)


Route = Callable[[Runtime, AppliedChange], list[Command]]
ROUTES: dict[str, Route] = {}


def register_route(name: str) -> Callable[[Route], Route]:
    def wrap(route: Route) -> Route:
        ROUTES[name] = route
        return route

    return wrap


_T = TypeVar("_T")
# What routes worked out while one page is routed (`routing_pass`), by key.
_pass: ContextVar[dict[Any, Any] | None] = ContextVar("pssync_routing_pass", default=None)


@contextmanager
def routing_pass() -> Iterator[None]:
    """Route one page's changes: the golden store holds still meanwhile (the page is written
    before it is routed), so what a route derives from the whole store — an account's totals
    over every actual — is worked out once per pass (`once`), not once per change."""
    token = _pass.set({})
    try:
        yield
    finally:
        _pass.reset(token)


def once(key: Any, compute: Callable[[], _T]) -> _T:
    """`compute()`, remembered under `key` for the rest of the routing pass (if any)."""
    memo = _pass.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    result: _T = memo[key]
    return result


def route_change(runtime: Runtime, change: AppliedChange) -> list[Command]:
    """Every command the runtime's active routes make of one change."""
    commands: list[Command] = []
    for name in runtime.routes:
        try:
            route = ROUTES[name]
        except KeyError:
            raise LookupError(f"no route {name!r}; registered: {sorted(ROUTES)}") from None
        commands += route(runtime, change)
    return commands


@dataclass(frozen=True)
class EntityRoute:
    """Copy one entity type from systems of one role to systems of another.

    `defaults` are vendor fields a create needs but the canonical model does not carry (SAP's
    business partner category, for instance). When the record already came from the target
    (its xrefs name the target's ID) and `key_field` is set, the command addresses that record
    by its key instead of minting an external ID, so writing back never creates a twin.
    """

    name: str
    entity_type: str
    source_role: str
    target_role: str
    target_object: str
    external_id_field: str
    external_id_length: int = 20
    defaults: dict[str, Any] = field(default_factory=dict)
    key_field: str | None = None

    def __call__(self, runtime: Runtime, change: AppliedChange) -> list[Command]:
        if change.entity_type != self.entity_type:
            return []
        if runtime.role(change.system) != self.source_role:
            return []
        targets = sorted(
            s
            for s, role in runtime.roles.items()
            if role == self.target_role
            and s != change.system
            and s in runtime.connectors
            and self.renders_in(runtime, s)
        )
        return [self._command(change, target) for target in targets]

    def renders_in(self, runtime: Runtime, target: str) -> bool:
        """Whether `target`'s mapping has the object this route writes: an ERP whose mapping
        names its customers otherwise (NetSuite's `customer`, a file-drop's `customers`) is
        not sent SAP business partners it could not render."""
        translator = runtime.translators.get(target)
        return translator is not None and self.target_object in translator.spec.objects

    def _command(self, change: AppliedChange, target: str) -> Command:
        known = change.payload.get("xrefs", {}).get(f"{target}:{self.target_object}")
        if known and self.key_field:
            id_field, ext = self.key_field, str(known)
        else:
            id_field = self.external_id_field
            ext = external_id(change.entity_type, change.record_id, self.external_id_length)
        return Command(
            self.name,
            target,
            self.target_object,
            id_field,
            ext,
            change.entity_type,
            change.record_id,
            change.payload,
            dict(self.defaults),
        )


ACCOUNT_TO_ERP = EntityRoute(
    name="account_to_erp",
    entity_type="Account",
    source_role="crm",
    target_role="erp",
    target_object="A_BusinessPartner",
    external_id_field="BusinessPartnerIDByExtSystem",
    defaults={"BusinessPartnerCategory": "2"},
    key_field="BusinessPartner",
)
ROUTES[ACCOUNT_TO_ERP.name] = ACCOUNT_TO_ERP
