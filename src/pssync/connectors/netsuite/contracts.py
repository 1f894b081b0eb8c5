"""The contract objects: sales orders (ContractLine), Standard billing schedules
(BillingSchedule), billed milestone tasks (BillingMilestone) and customer payments (Payment).

All read-only: the ERP owns them. Each spans several SuiteQL tables; `related` names what each
reads besides its own rows (the fields listed as computed here).
"""

from __future__ import annotations

from pssync.connectors.netsuite.catalog import STAMP, TRANSACTION, Kind, NsObject


def contract_objects() -> list[NsObject]:
    """Contract lines (sales orders), their billing schedules, project milestones and the
    payments collected: read-only, the ERP owns them (see `related` for what each reads)."""
    order_fields: dict[str, Kind] = {
        **TRANSACTION,
        "entity": "ref",
        "job": "ref",
        "class": "ref",
        "startDate": "date",
        "endDate": "date",
        "subtotal": "number",
        "total": "number",
        "billingSchedule": "ref",
        "status": "ref",
        "billingScheduleType": "text",
        "billingFrequency": "text",
        "billingInArrears": "bool",
    }
    schedule_fields: dict[str, Kind] = {
        "id": "text",
        "externalId": "text",
        "name": "text",
        "scheduleType": "text",
        "frequency": "text",
        "inArrears": "bool",
        "recurrenceCount": "number",
        "project": "ref",
        STAMP: "datetime",
        "salesOrder": "ref",
        "currencyCode": "text",
        "firstBillDate": "date",
        "lastBillDate": "date",
        "firstBillAmount": "number",
    }
    milestone_fields: dict[str, Kind] = {
        "id": "text",
        "externalId": "text",
        "title": "text",
        "company": "ref",
        "endDate": "date",
        "isMilestone": "bool",
        "status": "ref",
        "createdDate": "datetime",
        STAMP: "datetime",
        "salesOrder": "ref",
        "currencyCode": "text",
        "milestoneDate": "date",
        "milestoneAmount": "number",
        "milestoneCompleted": "bool",
        "milestoneActualCompletionDate": "date",
    }
    payment_fields: dict[str, Kind] = {**TRANSACTION, "customer": "ref", "payment": "number"}
    return [
        NsObject(
            "salesorder",
            "salesorder",
            "transaction",
            order_fields,
            "type = 'SalesOrd'",
            writable=False,
            related="salesorder",
            computed=frozenset({"billingScheduleType", "billingFrequency", "billingInArrears"}),
        ),
        NsObject(
            "billingschedule",
            "billingschedule",
            "billingschedule",
            schedule_fields,
            "scheduletype = 'STD'",  # periodic schedules; milestone and T&M ones bill otherwise
            writable=False,
            related="schedule",
            computed=frozenset(
                {"salesOrder", "currencyCode", "firstBillDate", "lastBillDate", "firstBillAmount"}
            ),
        ),
        NsObject(
            "projecttask_milestone",
            "projecttask",
            "projecttask",
            milestone_fields,
            "ismilestone = 'T'",
            writable=False,
            related="milestone",
            computed=frozenset(
                {
                    "salesOrder",
                    "currencyCode",
                    "milestoneDate",
                    "milestoneAmount",
                    "milestoneCompleted",
                    "milestoneActualCompletionDate",
                }
            ),
        ),
        NsObject(
            "customerpayment",
            "customerpayment",
            "transaction",
            {**payment_fields, "invoice": "ref"},
            "type = 'CustPymt'",
            writable=False,
            related="payment",
            computed=frozenset({"invoice"}),
        ),
    ]
