"""The local file store: atomic puts by digest, one copy per content, limits, and deletes by age."""

from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path

import pytest

from duban.core.filestore import LocalFileStore, StoreLimitExceeded


def test_a_put_keeps_the_bytes_under_their_digest_once(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    data = "佐证材料".encode() * 1000
    first = store.put(io.BytesIO(data), limit=1 << 20)
    second = store.put(io.BytesIO(data), limit=1 << 20)
    assert first.sha256 == second.sha256 == hashlib.sha256(data).hexdigest()
    assert (first.created, second.created) == (True, False)
    assert first.size == len(data)
    with store.open(first.sha256) as handle:
        assert handle.read() == data
    stored = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert stored == [store.path_of(first.sha256)]  # one file, no temporary left behind


def test_a_put_over_the_limit_keeps_nothing(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    with pytest.raises(StoreLimitExceeded):
        store.put(io.BytesIO(b"x" * 2048), limit=1024)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_delete_by_age_spares_bytes_stored_again_since(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    kept = store.put(io.BytesIO(b"old"), limit=100)
    old = time.time() - 3600
    os.utime(store.path_of(kept.sha256), (old, old))
    assert [digest for digest, _ in store.digests()] == [kept.sha256]
    store.put(io.BytesIO(b"old"), limit=100)  # sent again: its time is fresh
    assert store.delete(kept.sha256, older_than=time.time() - 60) is False
    assert store.exists(kept.sha256)
    assert store.delete(kept.sha256) is True and not store.exists(kept.sha256)


def test_a_name_that_is_not_a_digest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LocalFileStore(tmp_path).path_of("../../etc/passwd")
