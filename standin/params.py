"""Method parameters as a Bot API client sends them (query string, urlencoded or multipart form
with JSON-encoded objects, or a JSON body), decoded and read with Telegram's errors."""

from __future__ import annotations

import json
from typing import Any

from standin.errors import bad_request
from standin.files import Upload

# Parameters that are strings even when they look like JSON ("123", "true", "null").
TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "name",
        "title",
        "description",
        "short_description",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "emoji",
        "data",
        "url",
        "callback_query_id",
        "file_id",
        "inline_message_id",
        "parse_mode",
        "action",
        "language_code",
        "custom_title",
        "icon_custom_emoji_id",
        "secret_token",
        "performer",
        "message_effect_id",
        "business_connection_id",
        "photo",
        "document",
        "video",
        "voice",
        "audio",
        "animation",
        "sticker",
        "video_note",
        "thumbnail",
    }
)


def _no_constants(name: str) -> Any:
    raise ValueError(name)


def decode_value(key: str, raw: Any) -> Any:
    """A form value: JSON where Telegram expects a number, a boolean or an object."""
    if not isinstance(raw, str) or key in TEXT_PARAMS:
        return raw
    try:
        return json.loads(raw, parse_constant=_no_constants)
    except ValueError:
        return raw


class Params:
    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    def __contains__(self, key: str) -> bool:
        return self.values.get(key) not in (None, "")

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def opt_int(self, key: str) -> int | None:
        value = self.values.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad_request(f'field "{key}" must be of type Integer')
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        raise bad_request(f'field "{key}" must be of type Integer')

    def req_int(self, key: str, missing: str | None = None) -> int:
        value = self.opt_int(key)
        if value is None:
            raise bad_request(missing or f"{key} is empty")
        return value

    def opt_str(self, key: str) -> str | None:
        value = self.values.get(key)
        return None if value is None else str(value)

    def req_str(self, key: str, missing: str | None = None) -> str:
        value = self.opt_str(key)
        if not value:
            raise bad_request(missing or f"{key} is empty")
        return value

    def flag(self, key: str) -> bool:
        return self.values.get(key) in (True, 1, "true", "True", "1")

    def opt_dict(self, key: str) -> dict[str, Any] | None:
        value = self._object(key)
        if value is not None and not isinstance(value, dict):
            raise bad_request(f"can't parse {key} JSON object")
        return value

    def opt_list(self, key: str) -> list[Any] | None:
        value = self._object(key)
        if value is not None and not isinstance(value, list):
            raise bad_request(f"can't parse {key} JSON array")
        return value

    def _object(self, key: str) -> Any:
        value = self.values.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {key} JSON object") from None
        return value

    def file(self, key: str) -> str | Upload | None:
        """A file parameter: a file_id / URL, `attach://<part>`, or a part named like it."""
        value = self.values.get(key)
        if value is None:
            return self.uploads.get(key)
        return self.attachment(value)

    def attachment(self, value: Any) -> str | Upload:
        if isinstance(value, Upload):
            return value
        text = str(value)
        if text.startswith("attach://"):
            upload = self.uploads.get(text.removeprefix("attach://"))
            if upload is None:
                raise bad_request(
                    f"file {text.removeprefix('attach://')!r} not found in the request"
                )
            return upload
        return text


def summarize_uploads(value: Any, uploads: dict[str, Upload]) -> Any:
    """Params for the call record: `attach://x` (anywhere) replaced by what was uploaded."""
    if isinstance(value, dict):
        return {k: summarize_uploads(v, uploads) for k, v in value.items()}
    if isinstance(value, list):
        return [summarize_uploads(v, uploads) for v in value]
    if isinstance(value, str) and value.startswith("attach://"):
        upload = uploads.get(value.removeprefix("attach://"))
        if upload is not None:
            return describe_upload(upload)
    return value


def describe_upload(upload: Upload) -> dict[str, Any]:
    return {"filename": upload.filename, "content_type": upload.content_type, "size": upload.size}
