"""``plan_reminder``: one instalment's reminder email (see ``syncd.plans.mailing``)."""

from __future__ import annotations

from ...plans.mailing import PlanEmailHandler
from .registry import register


class PlanReminderHandler(PlanEmailHandler):
    kind = "plan_reminder"


HANDLER = register(PlanReminderHandler())
