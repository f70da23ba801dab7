"""The client's dialogue states (kept in the FSM storage, so they survive a restart)."""

from aiogram.fsm.state import State, StatesGroup

from storage.models import Client


class Identify(StatesGroup):
    name = State()
    company = State()
    tax_id = State()


class NewRequest(StatesGroup):
    kind = State()
    topic = State()
    description = State()
    feedback = State()
    phone = State()
    email = State()
    confirm = State()


class ProfileEdit(StatesGroup):
    name = State()
    company = State()
    tax_id = State()


def first_missing(client: Client) -> State:
    """The first identification question the client has not answered yet."""
    if not client.name:
        return Identify.name
    if not client.company:
        return Identify.company
    return Identify.tax_id
