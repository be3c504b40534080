"""What a policy asks of a letter, resolved from the config when the cycle plans the
escalation, and which letter a debtor gets.

The spec travels in the outbox payload (``payload["letter"]``): a preview, the review
queue and the executor all read the same instructions, and a config edit after planning
does not change a letter a human has already approved.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from policies.kinds.escalate import EscalateAction

from ..config.loader import LoadedConfig
from ..store.models import Customer

PRE_ACTION = "pre-action-ew"
DEMAND = "demand"
#: The Pre-Action Protocol for Debt Claims covers England and Wales; providers give the
#: United Kingdom as GB (there is no separate code for England or Wales).
PRE_ACTION_COUNTRIES = frozenset({"GB"})


@dataclass(frozen=True, slots=True)
class LetterSpec:
    template: str
    pay_within_days: int
    consequences: tuple[str, ...]
    attach_to_email: bool
    by_post: bool
    #: Statutory interest keeps accruing on a business debt under this policy.
    interest_policy: bool

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["consequences"] = list(self.consequences)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LetterSpec:
        return cls(
            template=str(data["template"]),
            pay_within_days=int(data["pay_within_days"]),
            consequences=tuple(str(c) for c in data.get("consequences") or ()),
            attach_to_email=bool(data.get("attach_to_email")),
            by_post=bool(data.get("by_post", True)),
            interest_policy=bool(data.get("interest_policy")),
        )


def letter_spec(config: LoadedConfig, policy: str | None, step: str | None) -> LetterSpec | None:
    """The letter the policy's step asks for, or None (an escalation without a letter)."""
    found = config.policies.get(policy or "")
    fired = found.step(step) if found is not None and step else None
    if found is None or fired is None:
        return None
    for action in fired.actions:
        if isinstance(action, EscalateAction) and action.letter is not None:
            return LetterSpec(
                template=action.letter,
                pay_within_days=int(action.letter_pay_within),
                consequences=tuple(action.letter_consequences),
                attach_to_email=bool(action.attach_to_email),
                by_post=bool(action.letter_by_post),
                interest_policy=found.interest is not None,
            )
    return None


def choose_template(
    spec: LetterSpec, is_business: bool | None, country: str | None
) -> tuple[str, str | None]:
    """The letter this debtor gets, and why it must wait for a human (None: it need not).

    The England and Wales preset applies to individuals and sole traders only: a business
    gets the ordinary letter of demand; a debtor the provider does not describe is held,
    since sending the wrong one either breaches the protocol or misstates the law."""
    if spec.template != PRE_ACTION:
        return spec.template, None
    if is_business is True:
        return DEMAND, None
    if is_business is None:
        return PRE_ACTION, (
            "pre-action-ew letter: the provider does not say whether the customer is a "
            "business or an individual; check before the letter goes out"
        )
    if country is None:
        return PRE_ACTION, (
            "pre-action-ew letter: the customer's billing country is unknown; the protocol "
            "applies in England and Wales only"
        )
    if country.upper() not in PRE_ACTION_COUNTRIES:
        return DEMAND, None
    return PRE_ACTION, None


def letters_folder(config: LoadedConfig) -> Path:
    """``[letters] folder``, else ``letters`` beside the SQLite database or the config."""
    base = config.path.parent.resolve()
    configured = config.settings.letters.folder
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else base / path
    url = make_url(config.settings.store.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "letters"
    return base / "letters"


def debtor_is_business(
    config: LoadedConfig, org_name: str, customer: Customer | None
) -> bool | None:
    """The owner's marking (``business_groups`` / ``individual_groups``) beats the
    provider's sign; neither provider ever says a customer is *not* a business."""
    if customer is None:
        return None
    org = config.settings.org(org_name)
    groups = {g.casefold() for g in customer.groups or ()}
    if groups & {g.casefold() for g in org.business_groups}:
        return True
    if groups & {g.casefold() for g in org.individual_groups}:
        return False
    return customer.is_business


def letter_payload(
    session: Session, config: LoadedConfig, org_name: str, org_id: int, payload: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None]:
    """The ``letter`` entry the cycle adds to an escalation's outbox payload, and why the
    escalation must wait for a human whatever the review mode (None: no particular reason)."""
    if payload.get("action") != "escalate":
        return None, None
    spec = letter_spec(config, payload.get("policy"), payload.get("step"))
    if spec is None:
        return None, None
    customer = session.scalar(
        select(Customer).where(
            Customer.org_id == org_id, Customer.provider_id == payload.get("customer")
        )
    )
    business = debtor_is_business(config, org_name, customer)
    _, hold = choose_template(spec, business, None if customer is None else customer.country)
    letters = config.settings.letters
    base = config.path.parent.resolve()
    templates, fonts = letters.templates_dir, letters.font_dir
    entry = {
        **spec.to_dict(),
        "debtor_is_business": business,
        "timezone": config.settings.org(org_name).timezone,
        "folder": str(letters_folder(config)),
        "templates_dir": str(base / templates) if templates else None,
        "font_dir": str(base / fonts) if fonts else None,
        "reply_email": reply_address(config),
    }
    return entry, hold


def reply_address(config: LoadedConfig) -> str | None:
    """Where the customer writes to the business: the reminders' Reply-To, else their sender.
    A letter falls back on it when the provider gives no company email (Xero never does),
    so that it does not send a debtor to a phone number alone. None without an [email]
    section (its defaults are placeholders, not the business's address)."""
    if "email" not in config.settings.model_fields_set:
        return None
    mail = config.settings.email
    address = parseaddr(mail.reply_to or mail.from_address)[1]
    return address or None
