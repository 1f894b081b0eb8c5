"""Exceptions and the commands that move them through their lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, create_model

from pssync.store.problems import exception_fields

_ID = Field(min_length=1, max_length=64)


def _public_fields() -> dict[str, Any]:
    """The served fields: every public field of the one exception definition, then the names
    the API looks up for its record, region and service line."""
    served: dict[str, Any] = {name: (hint, ...) for name, hint, _ in exception_fields(public=True)}
    names = {
        "record_name": (
            str | None,
            Field(default=None, description="The record's name, if it has one."),
        ),
        "region_name": (str | None, None),
        "service_line_name": (str | None, None),
    }
    return {**served, **names}


if TYPE_CHECKING:  # what code sets on a served exception; the fields are derived below

    class ExceptionPublic(BaseModel):
        record_name: str | None
        region_name: str | None
        service_line_name: str | None

else:
    ExceptionPublic = create_model("ExceptionPublic", **_public_fields())


class AssignBody(BaseModel):
    owner: str = Field(min_length=1, max_length=128)


class NoteBody(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class ReplayBody(BaseModel):
    payload: str | None = Field(
        default=None, max_length=200_000, description="Corrected payload to replay instead."
    )


class BulkBase(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=500)


class BulkAssign(BulkBase):
    owner: str = Field(min_length=1, max_length=128)


class BulkResolve(BulkBase):
    note: str = Field(min_length=1, max_length=2000)


class BulkReplay(BulkBase):
    pass


class BulkItem(BaseModel):
    id: str
    ok: bool
    state: str | None = None
    error: str | None = None


class BulkResult(BaseModel):
    ok: int
    failed: int
    items: list[BulkItem]
