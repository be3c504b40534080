"""What a plan puts in writing: the schedule as a PDF (fpdf2), the confirmation email that
carries it, and each instalment's reminder email.

Templates live in ``syncd/plans/templates`` (``plan-confirmation``, ``plan-reminder``) and
can be overridden like the reminder templates, by the same names in the configured
``templates_dir``. Messages are built from the store alone, so ``syncd preview`` shows
exactly what the executor sends.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from babel.core import Locale
from fpdf import FPDF
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import PermanentError

from ..mail import Business, MailTemplateError, Recipient, TemplateSet, make_message_id
from ..mail.model import customer_locale
from ..mail.render import KEY_HEADER, to_header
from ..review.address import NoUsableAddress, bill_emails, email_addresses
from ..store.models import Customer, Invoice, OutboxAction, PaymentPlan
from ..store.queries import money_text
from .agree import get_plan

TEMPLATES = Path(__file__).with_name("templates")


def plan_templates(base: TemplateSet) -> TemplateSet:
    """``base`` (the user's folder, then syncd's mail templates) plus the plan templates."""
    loader = base.env.loader
    if isinstance(loader, ChoiceLoader) and not any(
        isinstance(x, FileSystemLoader) and str(TEMPLATES) in x.searchpath for x in loader.loaders
    ):
        loader.loaders = [*loader.loaders, FileSystemLoader(str(TEMPLATES))]
    return base


def _money(amount: Decimal, currency: str) -> str:
    return money_text(amount, currency, grouped=True)


def schedule_pdf(
    plan: PaymentPlan, business: str, customer: str, late: tuple[date, date] | None = None
) -> bytes:
    """One page: who agreed what, the invoices covered and the dated schedule.

    ``late`` is (today, the new last day to pay) for a confirmation going out after an
    instalment fell due: such an instalment, still unpaid, says by when it must now be paid,
    as the email does (the PDF is the customer's record; it must not hold them to a date the
    email moved)."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Payment plan {plan.id}")
    pdf.set_creator("syncd")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, f"Payment plan {plan.id}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for line in (
        f"Between {business} and {customer}",
        f"Agreed on {plan.created_at.date().isoformat()}",
        f"Total covered: {_money(plan.amount, plan.currency)}",
    ):
        pdf.cell(0, 7, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Invoices covered", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for inv in plan.invoices:
        label = f"Invoice {inv.number or inv.invoice_provider_id}"
        pdf.cell(100, 7, _latin(label))
        pdf.cell(0, 7, _money(inv.balance, plan.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    for text, width in (("Payment", 60), ("Due by", 60)):
        pdf.cell(width, 7, text, border="B")
    pdf.cell(0, 7, "Amount", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for i in plan.instalments:
        pdf.cell(60, 7, "Deposit" if i.number == 0 else f"Payment {i.number}")
        pdf.cell(60, 7, i.due_date.isoformat())
        pdf.cell(0, 7, _money(i.amount, plan.currency), align="R", new_x="LMARGIN", new_y="NEXT")
        if late is not None and i.due_date < late[0] and not i.met_on:
            pdf.set_font("Helvetica", "I", 10)
            pdf.cell(60, 6, "")
            text = f"already due: please pay it by {late[1].isoformat()}"
            pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 11)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(120, 7, "Total", border="T")
    pdf.cell(
        0, 7, _money(plan.amount, plan.currency), border="T", align="R",
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    return bytes(pdf.output())


def _latin(text: str) -> str:
    """The core PDF fonts are Latin-1; anything else is replaced rather than crashing."""
    return text.encode("latin-1", "replace").decode("latin-1")


@dataclass
class PlanMessage:
    message: EmailMessage
    business: Business
    recipient: Recipient
    attachments: list[tuple[str, bytes]]


def _recipient(session: Session, plan: PaymentPlan, default: str) -> Recipient:
    """The customer's own address, else the billing address QuickBooks keeps on one of its
    open invoices (the plan's own first): the address the cycle counts as present before it
    queues a plan email (``syncd.review.address.unaddressed_customers``)."""
    customer = session.scalar(
        select(Customer).where(
            Customer.org_id == plan.org_id, Customer.provider_id == plan.customer_provider_id
        )
    )
    addresses = customer and (email_addresses(customer.email) or _bill_emails(session, plan))
    if customer is None or not addresses:
        raise NoUsableAddress(plan.customer_provider_id, customer.email if customer else None)
    locale = customer_locale(customer.locale, customer.country, default)
    first, *also = addresses
    return Recipient(name=customer.name, email=first, locale=locale, also=tuple(also))


def _bill_emails(session: Session, plan: PaymentPlan) -> list[str]:
    covered = {i.invoice_provider_id for i in plan.invoices}
    rows = session.execute(
        select(Invoice.provider_id, Invoice.raw).where(
            Invoice.org_id == plan.org_id,
            Invoice.customer_provider_id == plan.customer_provider_id,
            Invoice.balance > 0,
        )
    ).all()
    ordered = sorted(rows, key=lambda r: (r[0] not in covered, r[0]))
    return next((found for _, raw in ordered if (found := bill_emails(raw))), [])


def _deadline(payload: dict[str, Any], due: date, grace_days: int) -> date:
    """The last day to pay that the reminder states: the one the cycle held the plan to when
    it queued the reminder (counted from the confirmation's day for an instalment already
    due when it went out); reminders queued before that was recorded count from the due
    date."""
    stated = payload.get("deadline")
    return date.fromisoformat(str(stated)) if stated else due + timedelta(days=grace_days)


def build_plan_message(
    session: Session,
    row: OutboxAction,
    business: Business,
    templates: TemplateSet,
    *,
    now: datetime,
    today: date,
    digest: str,
    grace_days: int,
) -> PlanMessage:
    """The confirmation (with the schedule PDF) or one instalment's reminder, for ``row``.

    ``today`` is the org's local day at ``now``. A confirmation going out after an
    instalment fell due says by when that one must now be paid (``late_pay_by``: today plus
    the grace days, as the plan holds the customer to it, ``policies.plans.standing``)."""
    plan = get_plan(session, row.org_id, int(row.payload["plan_id"]))
    recipient = _recipient(session, plan, business.default_locale)
    context, attachments = _content(row, plan, business, recipient, now, today, grace_days)
    locale = Locale.parse(recipient.locale or business.default_locale)
    try:
        parts = plan_templates(templates).render(
            str(row.payload.get("template") or row.kind.replace("_", "-")),
            locale.language,
            context,
            locale=locale,
        )
    except MailTemplateError as exc:
        raise PermanentError(f"cannot build the {row.kind} email: {exc}") from None
    msg = EmailMessage(policy=email.policy.default)
    msg["Subject"] = parts.subject
    msg["From"] = Address(display_name=business.name, addr_spec=business.from_address)
    msg["To"] = to_header(recipient)
    if business.reply_to:
        msg["Reply-To"] = business.reply_to
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = row.message_id or make_message_id(digest, business.domain)
    msg[KEY_HEADER] = digest
    msg["Auto-Submitted"] = "auto-generated"
    _fill(msg, parts.text, parts.html, attachments)
    msg["Content-Language"] = parts.language
    return PlanMessage(msg, business, recipient, attachments)


def _content(
    row: OutboxAction,
    plan: PaymentPlan,
    business: Business,
    recipient: Recipient,
    now: datetime,
    today: date,
    grace_days: int,
) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The templates' context and the attachments: a reminder names its instalment and the
    day the plan holds the customer to; a confirmation carries the schedule PDF."""
    late_pay_by = today + timedelta(days=grace_days)
    context: dict[str, Any] = {
        "business": business,
        "recipient": recipient,
        "plan": plan,
        "invoices": [
            {"number": i.number or i.invoice_provider_id, "balance": i.balance}
            for i in plan.invoices
        ],
        "instalments": list(plan.instalments),
        "count": len([i for i in plan.instalments if i.number > 0]),
        "grace_days": grace_days,
        "now": now,
        "today": today,
        "late_pay_by": late_pay_by,
    }
    attachments: list[tuple[str, bytes]] = []
    if row.kind == "plan_reminder":
        number = int(row.payload["instalment"])
        instalment = next(i for i in plan.instalments if i.number == number)
        context.update(
            instalment=instalment,
            reminder=str(row.payload["reminder"]),
            deadline=_deadline(row.payload, instalment.due_date, grace_days),
        )
    else:
        attachments.append(
            (
                f"payment-plan-{plan.id}.pdf",
                schedule_pdf(plan, business.name, recipient.name, (today, late_pay_by)),
            )
        )
    return context, attachments


def _fill(msg: EmailMessage, text: str, html: str, attachments: list[tuple[str, bytes]]) -> None:
    """The two bodies, then the PDFs."""
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    for name, content in attachments:
        msg.add_attachment(content, maintype="application", subtype="pdf", filename=name)
