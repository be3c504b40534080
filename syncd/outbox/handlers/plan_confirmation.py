"""``plan_confirmation``: the agreed payment plan emailed to the customer with its schedule
as a PDF (see ``syncd.plans.mailing``)."""

from __future__ import annotations

from ...plans.mailing import PlanEmailHandler
from .registry import register


class PlanConfirmationHandler(PlanEmailHandler):
    kind = "plan_confirmation"


HANDLER = register(PlanConfirmationHandler())
