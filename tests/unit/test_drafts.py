"""A request being written survives a restart as plain FSM data."""

from __future__ import annotations

from typing import Any

from bot.services.drafts import Part, RequestDraft


def test_a_draft_comes_back_from_its_data() -> None:
    draft = RequestDraft(
        kind="consultation",
        topic="catalog",
        parts=[
            Part(chat_id=1, message_id=10, content_type="text", text="Не проходит карточка"),
            Part(chat_id=1, message_id=11, content_type="photo", file_id="f", media_group_id="g"),
            Part(chat_id=1, message_id=12, content_type="document", text="Акт", file_name="a.pdf"),
        ],
        feedback="email",
        contact="client@example.uz",
    )
    data = draft.to_data()
    assert data["parts"][1] == {
        "chat_id": 1,
        "message_id": 11,
        "content_type": "photo",
        "text": None,
        "file_id": "f",
        "file_name": None,
        "media_group_id": "g",
    }
    assert RequestDraft.from_data(data) == draft
    assert draft.description == "Не проходит карточка\n\nАкт"
    assert draft.media_count == 2
    assert [p.has_media for p in draft.parts] == [False, True, True]


def test_no_data_is_an_empty_draft() -> None:
    empty: list[dict[str, Any] | None] = [None, {}]
    for data in empty:
        draft = RequestDraft.from_data(data)
        assert draft == RequestDraft()
        assert (draft.description, draft.media_count) == ("", 0)
