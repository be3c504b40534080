"""A letter's policy settings are checked when the config loads: one line naming the file,
the key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.config import ConfigError, load_config
from syncd.letters.spec import reply_address

ORG = """
[[orgs]]
name = "acme"
connector = "quickbooks"
policy = "ladder"
[orgs.credentials]
client_id = "cid"
client_secret = "s"
refresh_token = "rt"
realm_id = "123"

[policies.ladder]
extends = "standard"

[[policies.ladder.steps]]
id = "final-notice"
days = 30
actions = [{{ kind = "escalate", level = "letter", {escalate} }}]
"""


def load(tmp_path: Path, escalate: str, extra: str = "") -> object:
    path = tmp_path / "syncd.toml"
    path.write_text(ORG.format(escalate=escalate) + extra, encoding="utf-8")
    return load_config(path)


@pytest.mark.parametrize(
    ("escalate", "said"),
    [
        (
            'letter = "pre-action-ew", pay_within_days = 14',
            "30 days to reply; expected pay_within_days >= 30, got 14",
        ),
        (
            'letter = "demand", attach_to_email = false, by_post = false',
            "a letter must reach the customer",
        ),
        ("pay_within_days = 14", "pay_within_days only apply to a letter"),
        ('letter = "county-court"', "letter"),
        ('letter = "demand", consequences = ["bailiffs"]', "consequences"),
        ('letter = "demand", pay_within_days = 3', "pay_within_days"),
    ],
)
def test_bad_letter_settings_name_the_file_and_key(
    tmp_path: Path, escalate: str, said: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, escalate)
    message = str(caught.value)
    assert str(tmp_path / "syncd.toml") in message
    assert "policies.ladder.steps" in message and said in message, message


def test_good_letter_settings_and_the_letters_folder(tmp_path: Path) -> None:
    config = load(
        tmp_path, 'letter = "pre-action-ew", by_post = true', '\n[letters]\nfolder = "out"\n'
    )
    step = config.policies["ladder"].step("final-notice")  # type: ignore[attr-defined]
    assert step is not None
    action = step.actions[0]
    assert action.letter_pay_within == 30 and action.letter_by_post
    from syncd.letters.spec import letters_folder

    assert letters_folder(config) == tmp_path / "out"  # type: ignore[arg-type]


def test_unknown_letters_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, 'letter = "demand"', '\n[letters]\nfoldr = "out"\n')
    assert "letters.foldr" in str(caught.value)


@pytest.mark.parametrize(
    ("email", "address"),
    [
        ("", None),  # no [email]: its defaults are placeholders, never the business's address
        ('\n[email]\nhost = "h"\nfrom_address = "Acme Accounts <ar@acme.test>"\n', "ar@acme.test"),
        (
            '\n[email]\nhost = "h"\nfrom_address = "x@acme.test"\nreply_to = "Jo <jo@acme.test>"\n',
            "jo@acme.test",
        ),
    ],
)
def test_a_letter_names_where_the_customer_writes_back(
    tmp_path: Path, email: str, address: str | None
) -> None:
    config = load(tmp_path, 'letter = "demand"', email)
    assert reply_address(config) == address  # type: ignore[arg-type]
