"""The personal-data registry covers every command and every record kind, and nothing
unregistered can be written or leave through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loyaltykit import Loyalty, Profile
from loyaltykit.service import commands
from loyaltykit.service.commands import CommandValue
from loyaltykit.service.personal import PUBLIC, PersonalData

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _concrete(cls: type[CommandValue]) -> list[type[CommandValue]]:
    found = []
    for sub in cls.__subclasses__():
        if "kind" in vars(sub):
            found.append(sub)
        found.extend(_concrete(sub))
    return found


COMMANDS = _concrete(CommandValue)


def test_every_command_value_is_registered() -> None:
    registry = PersonalData()
    assert len(COMMANDS) >= 29
    missing = [cls.__name__ for cls in COMMANDS if cls not in registry.views]
    assert not missing, f"not in the personal-data registry: {missing}"
    assert set(registry.views) == set(COMMANDS)  # nothing registered that does not exist
    assert set(commands.__all__) >= {cls.__name__ for cls in COMMANDS}


def test_commands_whose_outcomes_hold_personal_data_are_redacted_on_erasure() -> None:
    private = PersonalData().private_commands()
    assert {"enroll", "update_profile", "file_complaint", "submit_survey_response"} <= private
    assert "complaint.respond" in private
    assert "earn" not in private


def test_an_unregistered_command_cannot_run() -> None:
    loyalty = Loyalty()
    loyalty.kernel.personal = PersonalData(views={}, kinds=())
    with pytest.raises(LookupError, match="Enroll is not in the personal-data registry"):
        loyalty.enroll("c-1", at=T0, idempotency_key="e-1")
    loyalty.kernel.personal = PersonalData()
    loyalty.enroll("c-1", at=T0, idempotency_key="e-1")  # the refused one changed nothing


def test_an_unregistered_record_kind_cannot_be_written() -> None:
    loyalty = Loyalty()
    loyalty.enroll("c-1", at=T0, idempotency_key="e-1")
    with loyalty.kernel.unit() as uow, pytest.raises(LookupError, match="'loot'"):
        uow.records.put("c-1", "loot", "1", {"name": "Wang Fang"})


def test_the_outbox_carries_no_profile() -> None:
    loyalty = Loyalty(outbox=True)
    profile = Profile(name="Wang Fang", email="wf@example.com", phone="+86 138 0000 0000")
    loyalty.enroll("c-1", at=T0, idempotency_key="e-1", profile=profile)
    (event,) = loyalty.pending_events()
    assert event.payload == {"customer_id": "c-1", "status": "active"}
    assert PersonalData().views[commands.EarnPoints] is PUBLIC
