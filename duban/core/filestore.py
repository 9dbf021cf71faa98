"""Content-addressed file storage: bytes kept once per SHA-256, written atomically, shared by API hosts.

`FileStore` is the one interface the rest of duban uses; `LocalFileStore` keeps the files in a directory
(`var/files/` on the embedded runtime, one mounted volume for every API host in compose). A put streams
into a temporary file in the same directory tree, fsyncs it, then renames it onto its digest's name, so a
reader never sees half a file and a file sent twice is stored once.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, Protocol

from duban.core.errors import DubanError

CHUNK: Final = 1024 * 1024
_DIGEST: Final = re.compile(r"^[0-9a-f]{64}$")


class StoreLimitExceeded(DubanError):
    """A put read more bytes than its limit allowed (nothing was kept)."""

    code = "file_too_large"


@dataclass(frozen=True, slots=True)
class Stored:
    """What a put kept: the digest, the size, and whether the bytes were new to the store."""

    sha256: str
    size: int
    created: bool


class FileStore(Protocol):
    """Where uploaded bytes live, addressed by their SHA-256 (lower-case hex)."""

    def put(self, source: BinaryIO, *, limit: int) -> Stored:
        """Read `source` to its end (at most `limit` bytes, else StoreLimitExceeded) and keep it by digest."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """The stored bytes for reading (FileNotFoundError when absent)."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether the bytes of this digest are stored."""
        ...

    def delete(self, sha256: str, *, older_than: float | None = None) -> bool:
        """Remove the bytes of this digest, only if stored before `older_than` when given; whether removed."""
        ...

    def digests(self) -> Iterator[tuple[str, float]]:
        """Every stored digest with the time it was stored (seconds since the epoch), for the cleanup job."""
        ...


class LocalFileStore:
    """A FileStore in a local (or mounted) directory: `<root>/ab/cd/<sha256>`, temporary files in `tmp/`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        """Where the bytes of a digest live (ValueError for anything that is not a digest)."""
        if not _DIGEST.match(sha256):
            raise ValueError(f"not a SHA-256 digest: {sha256[:80]!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, source: BinaryIO, *, limit: int) -> Stored:
        """Stream `source` into a temporary file while hashing it, fsync, rename onto its digest."""
        temp_dir = self.root / "tmp"
        temp_dir.mkdir(parents=True, exist_ok=True)
        temp = temp_dir / f"{uuid.uuid4().hex}.part"
        digest = hashlib.sha256()
        size = 0
        try:
            with temp.open("xb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise StoreLimitExceeded(
                            f"文件超过 {limit} 字节上限", f"the file exceeds {limit} bytes", limit=limit
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            final = self.path_of(sha256)
            if final.exists():
                os.utime(final)  # a fresh upload of known bytes: the cleanup grace starts again
                return Stored(sha256, size, created=False)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, final)
            _fsync_dir(final.parent)
            return Stored(sha256, size, created=True)
        finally:
            temp.unlink(missing_ok=True)

    def open(self, sha256: str) -> BinaryIO:
        """The stored bytes for reading."""
        return self.path_of(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        """Whether the digest's file is there."""
        return self.path_of(sha256).is_file()

    def delete(self, sha256: str, *, older_than: float | None = None) -> bool:
        """Remove the digest's file (kept when a put touched it since `older_than`)."""
        path = self.path_of(sha256)
        try:
            if older_than is not None and path.stat().st_mtime >= older_than:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def digests(self) -> Iterator[tuple[str, float]]:
        """Every stored digest and its modification time; temporary files older than a day are removed."""
        if not self.root.is_dir():
            return
        stale = time.time() - 86_400
        for part in (self.root / "tmp").glob("*.part"):
            try:
                if part.stat().st_mtime < stale:  # a put killed mid-write
                    part.unlink(missing_ok=True)
            except FileNotFoundError:
                continue
        for path in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            if _DIGEST.match(path.name):
                try:
                    yield path.name, path.stat().st_mtime
                except FileNotFoundError:
                    continue


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX: fsync the directory that holds the new name)."""
    if os.name != "posix":
        return
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def configured_store() -> FileStore:
    """The store the settings name: the local directory `DUBAN_FILES_DIR` (default `var/files/`)."""
    from duban.core.config import get_settings

    root = get_settings().files_dir
    assert root is not None  # filled in by the settings' defaults
    return LocalFileStore(root)
