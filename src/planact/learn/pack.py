"""Carrying a loop to another machine. A loop outlives a working session, and a machine does not keep
`runs/`: `pack` writes the loop's state into one archive small enough to commit, and `unpack` puts it
back so that the same `planact learn run` resumes.

The archive holds what resuming needs and leaves out what can be had again:
- kept: state.json, learn.json, the report, and each round's curriculum, rollouts, selection,
  annotations, training data and validation records (`episodes.jsonl`);
- left out: each episode's trace folder (`episodes/`: observations and screenshots, the bulk of a loop
  folder), the output lock, half-written `*.tmp` files, and the adapters of rounds that no later phase
  reads (rounds that were not kept);
- adapters kept: the round in progress (roles already trained, and the newest checkpoint of a role
  whose training was cut off, so training resumes from it), and the best round's unless the shipped
  bundle holds that very round (`planact learn ship`), from which `unpack` restores them.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from .state import LearnState


@dataclass
class PackSummary:
    archive: Path
    files: int
    bytes: int  # the archive's size
    adapters: list[str] = field(default_factory=list)  # which rounds' adapters are inside, and why
    left_out: dict[str, int] = field(default_factory=dict)  # reason -> files


def shipped_round(shipped: Path | None) -> int | None:
    """The loop round a shipped bundle (`planact learn ship`) was made from, if any."""
    path = shipped / "bundle.json" if shipped else None
    if not path or not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("round")


def _checkpoint_number(path: Path) -> int:
    try:
        return int(path.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def _adapter_files(adapters: Path) -> list[Path]:
    """A round's adapters: finished roles without their checkpoints; an unfinished role, only its
    newest checkpoint."""
    files: list[Path] = [p for p in adapters.iterdir() if p.is_file()]
    for role in sorted(p for p in adapters.iterdir() if p.is_dir()):
        checkpoints = sorted((c for c in role.glob("checkpoint-*") if c.is_dir()), key=_checkpoint_number)
        if (role / "planact_train.json").exists() or not checkpoints:
            files += [p for p in role.rglob("*") if p.is_file() and not any(
                part.startswith("checkpoint-") for part in p.relative_to(role).parts)]
        else:
            files += [p for p in role.iterdir() if p.is_file()]
            files += [p for p in checkpoints[-1].rglob("*") if p.is_file()]
    return files


def pack(out: Path, archive: Path, shipped: Path | None = None) -> PackSummary:
    """Write the loop in `out` to `archive` (a .tar.gz whose members start with `out`'s name)."""
    st_path = out / "state.json"
    if not st_path.exists():
        raise FileNotFoundError(f"no loop in {out} (no state.json)")
    st = LearnState.load(out)
    keep_adapters: dict[int, str] = {}
    if st.phase != "done" and (out / "rounds" / str(st.round) / "adapters").is_dir():
        keep_adapters[st.round] = "the round in progress"  # a decided round counts as best or not
    if st.best_round and st.best_round not in keep_adapters:
        if shipped_round(shipped) != st.best_round:
            keep_adapters[st.best_round] = "the best round (not the shipped bundle's)"
    left_out: dict[str, int] = {}
    members: list[Path] = []
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(out)
        parts = rel.parts
        reason = None
        if p.name == ".planact.lock" or p.suffix == ".tmp":
            reason = "locks and half-written files"
        elif "episodes" in parts[:-1]:
            reason = "episode traces"
        elif len(parts) > 3 and parts[0] == "rounds" and parts[2] == "adapters":
            continue  # adapters are chosen below
        if reason:
            left_out[reason] = left_out.get(reason, 0) + 1
        else:
            members.append(p)
    for r in sorted(keep_adapters):
        members += _adapter_files(out / "rounds" / str(r) / "adapters")
    adapter_files = sum(1 for p in out.glob("rounds/*/adapters/**/*") if p.is_file())
    packed_adapter_files = sum(1 for p in members if "adapters" in p.relative_to(out).parts)
    if adapter_files > packed_adapter_files:
        left_out["adapters of other rounds, older checkpoints"] = adapter_files - packed_adapter_files
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(archive.name + ".tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        for p in members:
            tar.add(p, arcname=str(Path(out.name) / p.relative_to(out)), recursive=False)
    tmp.replace(archive)
    return PackSummary(archive, len(members), archive.stat().st_size,
                       [f"round {r}: {why}" for r, why in sorted(keep_adapters.items())], left_out)


def unpack(archive: Path, out: Path, shipped: Path | None = None, force: bool = False) -> LearnState:
    """Restore a packed loop into `out`, and the best round's adapters from the shipped bundle when
    the archive left them out. Refuses to write over a loop unless `force`."""
    if (out / "state.json").exists() and not force:
        raise FileExistsError(f"{out} already holds a loop: resume it, or unpack elsewhere (or --force)")
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for m in members:
            rel = Path(*Path(m.name).parts[1:])
            if not m.isfile() or m.name.startswith("/") or ".." in Path(m.name).parts or not rel.parts:
                raise ValueError(f"{archive} is not a packed loop: unexpected member {m.name!r}")
        for m in members:
            target = out / Path(*Path(m.name).parts[1:])
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(m) as src, target.open("wb") as dst:  # type: ignore[union-attr]
                shutil.copyfileobj(src, dst)
    st = LearnState.load(out)
    best = out / "rounds" / str(st.best_round) / "adapters" if st.best_round else None
    if best and not (best / "bundle.json").exists():
        if shipped_round(shipped) != st.best_round:
            raise FileNotFoundError(f"the archive has no adapters for the best round ({st.best_round}) and the "
                                    f"shipped bundle {shipped} is not that round's")
        shutil.copytree(shipped, best, dirs_exist_ok=True)  # type: ignore[arg-type]
    return st
