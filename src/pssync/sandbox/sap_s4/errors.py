"""SAP Gateway's JSON error envelope, so clients parse emulator errors as they parse SAP's.

The shape (``error.code``, ``error.message.lang/value``, ``error.innererror`` with application,
transaction id, timestamp and ``errordetails``) is SAP Gateway's; the message codes are the
emulator's own (``/PSSYNC/SAP_EMU/<status>``), since clients must not branch on T100 numbers,
except where SAP documents the message a behaviour raises (e.g. /S4PPM/CRUD/377).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

ERROR_CONTENT_TYPE = "application/json;charset=utf-8"


class ODataError(Exception):
    """Raised inside a handler; rendered as an SAP error response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        service: str = "",
        target: str = "",
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.service = service
        self.target = target
        self.headers = headers or {}


def error_document(
    status: int, message: str, service: str = "", target: str = "", code: str | None = None
) -> bytes:
    code = code or f"/PSSYNC/SAP_EMU/{status}"
    now = dt.datetime.now(dt.UTC)
    detail: dict[str, Any] = {
        "code": code,
        "message": message,
        "propertyref": target,
        "severity": "error",
        "target": target,
        "transition": False,
    }
    body = {
        "error": {
            "code": code,
            "message": {"lang": "en", "value": message},
            "innererror": {
                "application": {
                    "component_id": "",
                    "service_namespace": "/SAP/",
                    "service_id": service,
                    "service_version": "0001",
                },
                "transactionid": uuid.uuid4().hex.upper(),
                "timestamp": now.strftime("%Y%m%d%H%M%S.") + f"{now.microsecond:06d}0",
                "Error_Resolution": {
                    "SAP_Transaction": "For backend administrators: use ADT feed reader "
                    "'SAP Gateway Error Log' or run transaction /IWFND/ERROR_LOG",
                    "SAP_Note": "See SAP Note 1797736 for error analysis "
                    "(https://service.sap.com/sap/support/notes/1797736)",
                },
                "errordetails": [detail],
            },
        }
    }
    return json.dumps(body).encode()
