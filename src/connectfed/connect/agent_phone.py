"""The agent's phone, as the agent sets it from the CCP (Streams' ``agent.setConfiguration``):
a softphone, or a desk phone reached at a number in E.164 format.

Streams' documentation says of ``agent.setConfiguration``: only ``softphoneEnabled`` and
``extension`` may be changed, and a number not in E.164 format fails the update. Both live in
the user's phone configuration (``PhoneType``, ``DeskPhoneNumber``), the one DescribeUser shows;
its other settings (auto-accept, the after-contact-work limit) are the administrator's and stay.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from connectfed.connect.errors import InvalidParameter

# Connect's pattern for a desk phone number (PhoneNumberConfig, UserPhoneConfig).
E164 = re.compile(r"\+[1-9]\d{1,14}")
SOFT_PHONE = "SOFT_PHONE"
DESK_PHONE = "DESK_PHONE"


@dataclass(frozen=True, slots=True)
class AgentPhone:
    softphone: bool
    number: str  # "" when none is set

    @classmethod
    def of(cls, phone_config: str) -> AgentPhone:
        """The phone a user's stored phone configuration (JSON object text) describes."""
        config = stored_object(phone_config)
        return cls(
            config.get("PhoneType", SOFT_PHONE) == SOFT_PHONE,
            str(config.get("DeskPhoneNumber", "")),
        )

    def check(self) -> None:
        """Raise :class:`InvalidParameter` unless Connect would accept this phone."""
        if self.number and not E164.fullmatch(self.number):
            raise InvalidParameter(
                f"The phone number {self.number!r} is not in E.164 format (+ and up to 15 digits)."
            )
        if not self.softphone and not self.number:
            raise InvalidParameter("A desk phone needs a phone number in E.164 format.")

    def applied_to(self, phone_config: str) -> str:
        """``phone_config`` (JSON object text) with this phone, its other settings kept."""
        config = stored_object(phone_config)
        config["PhoneType"] = SOFT_PHONE if self.softphone else DESK_PHONE
        if self.number:
            config["DeskPhoneNumber"] = self.number
        else:
            config.pop("DeskPhoneNumber", None)
        return json.dumps(config)


def stored_object(text: str) -> dict[str, Any]:
    """A JSON object stored with a Connect user (its PhoneConfig, its IdentityInfo); ``{}`` for
    anything else."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
