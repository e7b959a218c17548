"""Records every stage writes, and the append-only JSONL store that makes stages resumable.

A stage processes *units* (a batch of seeds, a query, a trajectory). The records of one unit are
written in one `write` with the unit's key, a batch id and the batch size; a unit counts as done
only when all its records are on disk. A run killed mid-write leaves an incomplete batch, which
readers ignore and the next run redoes: nothing is lost, nothing is written twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from .. import __version__


class Provenance(BaseModel):
    stage: str
    model: str | None = None  # the model spec that wrote it (None for rule-based steps)
    prompt: str | None = None  # prompt id, e.g. "synth.query_gen.v1"
    seed: int | None = None
    created_at: float = Field(default_factory=time.time)
    planact: str = __version__
    extra: dict[str, Any] = Field(default_factory=dict)  # e.g. the judge model of an ORM


class Record(BaseModel):
    id: str
    stage: str
    unit: str
    batch: str = ""
    batch_size: int = 1
    status: Literal["kept", "dropped"] = "kept"
    reason: str | None = None  # why it was dropped
    parent_ids: list[str] = Field(default_factory=list)
    provenance: Provenance
    usage: dict[str, int] = Field(default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0})
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def kept(self) -> bool:
        return self.status == "kept"


def make_id(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:16]


def new_record(stage: str, unit: str, index: int, provenance: Provenance, data: dict[str, Any],
               parent_ids: Iterable[str] = (), status: str = "kept", reason: str | None = None,
               usage: dict[str, int] | None = None) -> Record:
    """Ids are stable for (stage, unit, index): a redone unit writes the same ids again."""
    return Record(id=make_id(stage, unit, index), stage=stage, unit=unit, status=status, reason=reason,
                  parent_ids=list(parent_ids), provenance=provenance, data=data,
                  usage=usage or {"prompt_tokens": 0, "completion_tokens": 0})


class RecordStore:
    """One stage's JSONL file. Thread-safe appends; tolerant reads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def append_batch(self, records: list[Record], unit: str) -> None:
        """All records of one unit in one write, flushed and fsynced. A unit that produced no
        record still writes a marker so that it is not redone."""
        batch = uuid.uuid4().hex[:12]
        lines = []
        if not records:
            lines.append(json.dumps({"unit": unit, "batch": batch, "batch_size": 0, "marker": True}))
        for r in records:
            r.unit, r.batch, r.batch_size = unit, batch, len(records)
            lines.append(r.model_dump_json())
        payload = "\n".join(lines) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a+b") as f:
                # a line cut short by a kill must not swallow the next record
                if f.tell() > 0:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":
                        f.write(b"\n")
                f.write(payload.encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())

    def _complete_batches(self) -> tuple[list[Record], set[str]]:
        if not self.path.exists():
            return [], set()
        batches: dict[str, list[dict]] = {}
        order: list[str] = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                d = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(d, dict) or "batch" not in d:
                continue
            if d["batch"] not in batches:
                batches[d["batch"]] = []
                order.append(d["batch"])
            batches[d["batch"]].append(d)
        done: set[str] = set()
        out: list[Record] = []
        for b in order:
            rows = batches[b]
            size, unit = rows[0].get("batch_size", 1), rows[0].get("unit")
            if unit in done:
                continue  # a unit redone after a kill: the first complete batch wins
            if size == 0 and rows[0].get("marker"):
                done.add(unit)
                continue
            if len(rows) != size:
                continue
            try:
                recs = [Record.model_validate(r) for r in rows]
            except ValueError:
                continue
            done.add(unit)
            out.extend(recs)
        return out, done

    def read(self, kept_only: bool = False) -> list[Record]:
        recs, _ = self._complete_batches()
        return [r for r in recs if r.kept] if kept_only else recs

    def done_units(self) -> set[str]:
        return self._complete_batches()[1]


def load_records(path: str | Path, kept_only: bool = True) -> list[Record]:
    """Read a stage's output, or raise a clear error if the stage has not run."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p} does not exist: run the stage that writes it first")
    return RecordStore(p).read(kept_only=kept_only)
