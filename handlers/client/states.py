"""The client's dialogue states (kept in the FSM storage, so they survive a restart)."""

from aiogram.fsm.state import State, StatesGroup


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
