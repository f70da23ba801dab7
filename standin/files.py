"""Files in the world: what users send and what the bot uploads, each with a fake but stable
file_id / file_unique_id, a size, a download path and some bytes to download."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any

from standin.errors import bad_request

# The first characters real file_ids of each kind start with; only to look familiar in logs.
_PREFIX = {
    "photo": "AgACAgIAAxkB",
    "document": "BQACAgIAAxkB",
    "voice": "AwACAgIAAxkB",
    "video": "BAACAgIAAxkB",
    "audio": "CQACAgIAAxkB",
    "animation": "CgACAgIAAxkB",
    "sticker": "CAACAgIAAxkB",
    "video_note": "DQACAgIAAxkB",
}
_EXTENSION = {
    "photo": "jpg",
    "voice": "oga",
    "video": "mp4",
    "audio": "mp3",
    "animation": "mp4",
    "sticker": "webp",
    "video_note": "mp4",
}
_MIME = {"voice": "audio/ogg", "video": "video/mp4", "audio": "audio/mpeg"}
_MIME |= {"animation": "video/mp4", "video_note": "video/mp4"}
# Which stored kinds each send method accepts by file_id (Telegram: "type of file mismatch").
ACCEPTS = {
    "photo": {"photo"},
    "document": {"document", "video", "animation", "audio"},
    "video": {"video", "animation"},
    "voice": {"voice"},
    "audio": {"audio"},
    "animation": {"animation"},
    "sticker": {"sticker"},
    "video_note": {"video_note"},
}


@dataclass(frozen=True)
class Upload:
    """A multipart part the bot sent (an aiogram InputFile)."""

    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    size: int
    path: str
    data: bytes | None = None
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    group: str = ""  # the photo sizes of one picture share a group

    def content(self) -> bytes:
        if self.data is not None:
            return self.data
        seed = f"standin:{self.file_unique_id}:".encode()
        return (seed * (self.size // len(seed) + 1))[: self.size]


class FileStore:
    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}
        self._counter = 0

    def get(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        return next((f for f in self._files.values() if f.path == path), None)

    def group(self, group: str) -> list[StoredFile]:
        return [f for f in self._files.values() if f.group == group]

    def new(
        self,
        kind: str,
        *,
        size: int = 0,
        data: bytes | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        group: str = "",
    ) -> StoredFile:
        self._counter += 1
        n = self._counter
        if data is not None:
            size = len(data)
        extension = _EXTENSION.get(kind) or (file_name or "").rpartition(".")[2] or "bin"
        if kind == "document" and mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = StoredFile(
            file_id=f"{_PREFIX.get(kind, 'BQACAgIAAxkB')}{n:06d}standin",
            file_unique_id=f"AQAD{n:06d}",
            kind=kind,
            size=size or 1000 + n,
            path=f"{kind}s/file_{n}.{extension}",
            data=data,
            file_name=file_name,
            mime_type=mime_type or _MIME.get(kind),
            group=group or f"g{n}",
        )
        self._files[stored.file_id] = stored
        return stored

    def new_photo(self, *, size: int = 0, data: bytes | None = None) -> list[StoredFile]:
        """A picture as Telegram keeps it: a thumbnail and the full size, one group."""
        thumb = self.new("photo", size=size // 20 or 1200)
        thumb.width, thumb.height = 90, 67
        full = self.new("photo", size=size, data=data, group=thumb.group)
        full.width, full.height = 1280, 960
        return [thumb, full]

    def resolve(
        self, kind: str, reference: str | Upload, *, file_name: str | None = None
    ) -> list[StoredFile]:
        """The files for a send: an upload becomes a new file, a URL a new fake one, a file_id
        must exist and be of a kind this method accepts."""
        if isinstance(reference, Upload):
            name = reference.filename if kind == "document" else None
            return self._fresh(kind, data=reference.data, file_name=file_name or name)
        if reference.startswith(("http://", "https://")):
            name = reference.rsplit("/", 1)[-1] or None
            return self._fresh(kind, file_name=file_name or (name if kind == "document" else None))
        stored = self.get(reference)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind not in ACCEPTS.get(kind, {kind}):
            raise bad_request("type of file mismatch")
        return self.group(stored.group) if stored.kind == "photo" else [stored]

    def _fresh(
        self, kind: str, *, data: bytes | None = None, file_name: str | None = None
    ) -> list[StoredFile]:
        if kind == "photo":
            return self.new_photo(data=data)
        return [self.new(kind, data=data, file_name=file_name)]


def file_object(stored: StoredFile) -> dict[str, Any]:
    """The Bot API File for getFile."""
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.path,
    }


def media_object(stored: StoredFile) -> dict[str, Any]:
    """The Bot API object describing one file in a message (Document, Voice, Sticker, ...)."""
    obj: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }
    if stored.kind == "photo":
        return obj | {"width": stored.width, "height": stored.height}
    if stored.file_name:
        obj["file_name"] = stored.file_name
    if stored.mime_type:
        obj["mime_type"] = stored.mime_type
    extra: dict[str, dict[str, Any]] = {
        "voice": {"duration": 3},
        "audio": {"duration": 30},
        "video": {"width": 640, "height": 360, "duration": 5},
        "animation": {"width": 320, "height": 240, "duration": 2},
        "video_note": {"length": 240, "duration": 5},
        "sticker": {
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "🙂",
        },
    }
    return obj | extra.get(stored.kind, {})


def media_content(kind: str, files: list[StoredFile]) -> dict[str, Any]:
    """The message fields for these files: `photo` is a list of sizes; an animation also
    appears as `document`, as Telegram does."""
    if kind == "photo":
        return {"photo": [media_object(f) for f in files]}
    obj = media_object(files[0])
    content = {files[0].kind if kind == "document" else kind: obj}
    if kind == "animation":
        content["document"] = obj
    return content
