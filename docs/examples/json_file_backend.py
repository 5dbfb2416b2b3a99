"""A crmcore storage backend that keeps everything in one JSON file.

This is the backend built step by step in docs/writing-a-backend.md. It is small
on purpose: every transaction reads the file, and a commit rewrites it whole. It is
safe for several threads of one process (one lock guards every commit), and a
commit is atomic on disk because the new file replaces the old one in one rename.
"""

# --8<-- [start:imports]
from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from crmcore.errors import ConcurrencyConflict, DuplicateRecord, NotFound, StorageError
from crmcore.models import ChangeRecord
from crmcore.query import Query
from crmcore.serialization import from_dict, to_dict
from crmcore.storage import RECORD_TYPES, Capabilities, Record, RecordKind

# --8<-- [end:imports]

__all__ = ["JsonFileBackend", "JsonFileTransaction", "create_backend"]


# --8<-- [start:backend]
class JsonFileBackend:
    """Stores every record and every change record in one JSON file."""

    capabilities = Capabilities(persistent=True, concurrent_writers=True)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock = threading.Lock()
        if not self.path.exists():
            self.save({"records": {kind: {} for kind in RECORD_TYPES}, "history": []})

    def begin(self) -> JsonFileTransaction:
        return JsonFileTransaction(self)

    def close(self) -> None:
        pass  # nothing stays open between transactions

    def load(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
        except (OSError, ValueError) as error:
            raise StorageError(f"cannot read {self.path}: {error}") from error

    def save(self, data: dict[str, Any]) -> None:
        # Write a new file next to the old one, then rename it over the old one:
        # readers see either the old file or the new one, never half of each.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file, ensure_ascii=False)
        os.replace(tmp, self.path)


# --8<-- [end:backend]


# --8<-- [start:factory]
def create_backend(url: str, **options: Any) -> JsonFileBackend:
    """Entry-point factory: ``jsonfile:///path/to/crm.json``."""
    return JsonFileBackend(url.removeprefix("jsonfile://"), **options)


# --8<-- [end:factory]


# --8<-- [start:transaction]
class JsonFileTransaction:
    """Buffers writes in memory; commit re-checks versions and rewrites the file."""

    def __init__(self, backend: JsonFileBackend) -> None:
        self.backend = backend
        self.writes: dict[tuple[str, str], Record | None] = {}  # None: deleted
        self.bases: dict[tuple[str, str], int | None] = {}  # version each write was based on
        self.new_history: list[ChangeRecord] = []

    # --8<-- [end:transaction]

    # --8<-- [start:reads]
    def _stored(self, kind: RecordKind) -> dict[str, Any]:
        records: dict[str, Any] = self.backend.load()["records"][kind]
        return records

    def _current(self, kind: RecordKind, record_id: str) -> Record | None:
        if (kind, record_id) in self.writes:  # a transaction sees its own writes
            return self.writes[kind, record_id]
        data = self._stored(kind).get(record_id)
        return None if data is None else from_dict(data, RECORD_TYPES[kind])

    def _all(self, kind: RecordKind) -> list[Record]:
        records = {
            record_id: from_dict(data, RECORD_TYPES[kind])
            for record_id, data in self._stored(kind).items()
        }
        for (k, record_id), record in self.writes.items():
            if k == kind:
                if record is None:
                    records.pop(record_id, None)
                else:
                    records[record_id] = record
        return list(records.values())

    def get(self, kind: RecordKind, record_id: str) -> Record | None:
        return self._current(kind, record_id)

    def get_many(self, kind: RecordKind, record_ids: Sequence[str]) -> dict[str, Record]:
        found = {i: self._current(kind, i) for i in record_ids}
        return {i: r for i, r in found.items() if r is not None}

    def query(self, kind: RecordKind, query: Query) -> list[Record]:
        return query.compile(RECORD_TYPES[kind]).apply(self._all(kind))

    def count(self, kind: RecordKind, query: Query) -> int:
        matches = query.compile(RECORD_TYPES[kind]).predicate
        return sum(1 for record in self._all(kind) if matches(record))

    def scan(self, kind: RecordKind, *, batch_size: int) -> Iterator[Record]:
        yield from sorted(self._all(kind), key=lambda record: record.id)

    def history(self, customer_id: str) -> list[ChangeRecord]:
        stored = [from_dict(c, ChangeRecord) for c in self.backend.load()["history"]]
        mine = [c for c in stored + self.new_history if c.customer_id == customer_id]
        return sorted(mine, key=lambda c: (c.at, c.version))

    # --8<-- [end:reads]

    # --8<-- [start:writes]
    def _write(
        self, kind: RecordKind, record_id: str, record: Record | None, base: int | None
    ) -> None:
        # ``base`` is the version this write relies on being stored (None: no record).
        # Commit checks it again; only the first write of a record sets it.
        self.bases.setdefault((kind, record_id), base)
        self.writes[kind, record_id] = record

    def _check_version(self, kind: RecordKind, record_id: str, expected: int) -> None:
        current = self._current(kind, record_id)
        if current is None:
            raise NotFound(kind, record_id)
        if current.version != expected:
            raise ConcurrencyConflict(
                kind, record_id, expected_version=expected, actual_version=current.version
            )

    def insert(self, kind: RecordKind, records: Sequence[Record]) -> None:
        ids = [record.id for record in records]
        for record_id in ids:
            if ids.count(record_id) > 1 or self._current(kind, record_id) is not None:
                raise DuplicateRecord(kind, record_id)
        for record in records:
            self._write(kind, record.id, record, None)

    def update(self, kind: RecordKind, record: Record, *, expected_version: int) -> None:
        self._check_version(kind, record.id, expected_version)
        self._write(kind, record.id, record, expected_version)

    def delete(self, kind: RecordKind, record_id: str, *, expected_version: int) -> None:
        self._check_version(kind, record_id, expected_version)
        self._write(kind, record_id, None, expected_version)

    def append_history(self, records: Sequence[ChangeRecord]) -> None:
        self.new_history.extend(records)

    # --8<-- [end:writes]

    # --8<-- [start:commit]
    def commit(self) -> None:
        with self.backend.lock:  # one commit at a time
            data = self.backend.load()
            for (kind, record_id), base in self.bases.items():
                stored = data["records"][kind].get(record_id)
                actual = None if stored is None else stored["version"]
                if actual != base:  # someone else committed this record meanwhile
                    self.rollback()
                    if base is None:
                        raise DuplicateRecord(kind, record_id)
                    raise ConcurrencyConflict(
                        kind, record_id, expected_version=base, actual_version=actual
                    )
            for (kind, record_id), record in self.writes.items():
                if record is None:
                    data["records"][kind].pop(record_id, None)
                else:
                    data["records"][kind][record_id] = to_dict(record)
            data["history"].extend(to_dict(change) for change in self.new_history)
            self.backend.save(data)
        self.rollback()  # the buffers are spent

    def rollback(self) -> None:
        self.writes, self.bases, self.new_history = {}, {}, []

    # --8<-- [end:commit]
