"""`memcli consolidate`: the nightly job.

The run never holds the store for long: it reads what it needs with a short read-only open,
embeds and compares with the store closed, then applies the whole plan in one short write
transaction that first checks each memory is still as it was read (an `add` or an edit that
came in between wins; the next run sees it). Only the erasure rewrite keeps the write lock
for longer, and only when something was forgotten, edited or the file is mostly empty space.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import numpy as np

from memcli.embed import model_info
from memcli.errors import ModelUnavailable
from memcli.lifecycle import similarity
from memcli.lifecycle.pairs import memory_vectors, similar_pairs
from memcli.lifecycle.plan import (
    Merge,
    Plan,
    Supersession,
    plan_duplicates,
    plan_fading,
    plan_pairs,
)
from memcli.records import FadingCandidate, Memory
from memcli.service.context import Context
from memcli.service.forgetting import erase
from memcli.service.maintenance import reindex
from memcli.store import consolidation as runs
from memcli.store import events as event_log
from memcli.store import index
from memcli.store import memories as rows
from memcli.store import meta as store_meta
from memcli.store.connection import NoStore, Store
from memcli.store.rewrite import database_blocks
from memcli.timeparse import utc_now

Progress = Callable[[str, int, int], None]

# Rewrite the file when at least half of it is free blocks, and that is worth it (16 MB).
_COMPACT_FREE_SHARE = 0.5
_COMPACT_MIN_FREE_BYTES = 16 * 2**20


@dataclass
class Report:
    """What a run did (or, with dry_run, would do). Ids and counts, never a memory's text."""

    as_of: str
    dry_run: bool
    compared: int = 0
    backfilled: int = 0
    backfill_pending: int = 0
    merged: list[dict[str, Any]] = field(default_factory=list)
    superseded: list[dict[str, Any]] = field(default_factory=list)
    archived: list[dict[str, Any]] = field(default_factory=list)
    erase: bool = False
    compact: bool = False
    bytes_before: int | None = None
    bytes_after: int | None = None
    seconds: float = 0.0
    run_id: int | None = None
    notices: list[str] = field(default_factory=list)

    def changes(self) -> int:
        return len(self.merged) + len(self.superseded) + len(self.archived) + self.backfilled

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Snapshot:
    last_seq: int
    top_seq: int
    changed: list[int]
    duplicate_groups: list[list[int]]
    fading: list[FadingCandidate]
    kept_apart: set[tuple[str, str]]
    needs_erasure: bool
    free_share: float
    free_bytes: int
    missing_vectors: int


def consolidate(
    ctx: Context,
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> tuple[Report, Plan, dict[int, Memory]]:
    """Run (or, with dry_run, plan) one consolidation; returns the report, the plan and the
    memories it names (for showing the plan)."""
    started, clock = utc_now(), time.monotonic()
    now = as_of or ctx.now()
    report = Report(as_of=now.isoformat(), dry_run=dry_run)
    try:
        snapshot, plan, involved = _survey(ctx, now, progress)
        if snapshot.missing_vectors and not dry_run and _backfill(ctx, report, progress):
            snapshot, plan, involved = _survey(ctx, now, progress)  # with the new vectors
    except NoStore:
        report.notices.append("there is no store yet: nothing to consolidate")
        return report, Plan(), {}
    if _configured_model(ctx) is None:
        report.notices.append("near duplicates not compared: the embedding model is disabled")
    report.compared = len(snapshot.changed)
    report.backfill_pending = snapshot.missing_vectors if dry_run else 0
    report.erase = snapshot.needs_erasure
    report.compact = (
        snapshot.free_share >= _COMPACT_FREE_SHARE
        and snapshot.free_bytes >= _COMPACT_MIN_FREE_BYTES
    )
    _describe(plan, report)
    if dry_run:
        report.seconds = round(time.monotonic() - clock, 3)
        return report, plan, involved
    with ctx.store(write=True) as store:
        with store.transaction() as con:
            _apply(con, plan, now, report)
            report.seconds = round(time.monotonic() - clock, 3)
            report.run_id = runs.record_run(
                con, started, now, report.seconds, snapshot.top_seq, False, report.as_dict()
            )
        if report.erase or report.compact:
            _rewrite(store, report)
    return report, plan, involved


def _survey(
    ctx: Context, now: datetime, progress: Progress | None
) -> tuple[_Snapshot, Plan, dict[int, Memory]]:
    """Read what the run needs and plan it, in one short read-only open of the store.

    Pairs are found among the stored vectors of the configured model: the model itself is
    loaded only to backfill missing vectors."""
    model = _configured_model(ctx)
    with ctx.store(write=False) as store:
        con = store.con
        snapshot = _snapshot(con, model[0] if model else None)
        pairs: list[tuple[int, int, float]] = []
        if model is not None and snapshot.changed:
            name, dim = model
            with index.bounded_buffers(con, working_bytes=8192 * dim * 8):
                row_seqs, matrix = runs.all_vectors(con, name, dim)
            seqs, vectors = memory_vectors(row_seqs, matrix)
            active = np.isin(seqs, runs.active_seqs(con))
            if not active.all():  # archived memories are neither merged nor superseded
                seqs, vectors = seqs[active], vectors[active]
            step = None if progress is None else (lambda d, t: progress("comparing", d, t))
            pairs = similar_pairs(
                np.asarray(snapshot.changed), seqs, vectors, similarity.CANDIDATE_COSINE, step
            )
        wanted = {s for group in snapshot.duplicate_groups for s in group}
        wanted |= {s for a, b, _ in pairs for s in (a, b)}
        memories = rows.get_by_seqs(con, sorted(wanted))
    plan = Plan()
    plan_duplicates(
        ([memories[s] for s in group] for group in snapshot.duplicate_groups),
        snapshot.kept_apart,
        plan,
    )
    plan_pairs(((memories[a], memories[b], c) for a, b, c in pairs), snapshot.kept_apart, plan)
    plan_fading(snapshot.fading, now, plan)
    return snapshot, plan, memories


def _configured_model(ctx: Context) -> tuple[str, int] | None:
    """The name and dimension of the configured model's vectors (None when it is disabled
    or its dimension unknown), without loading it."""
    settings = ctx.settings.model
    if not settings.enabled:
        return None
    try:
        return settings.name, model_info(settings).dim
    except ModelUnavailable:
        return None


def _snapshot(con: duckdb.DuckDBPyConnection, model: str | None) -> _Snapshot:
    last = runs.last_run(con)
    last_seq = last.last_seq if last else 0
    block, total, free = database_blocks(con)
    return _Snapshot(
        last_seq=last_seq,
        top_seq=runs.max_seq(con),
        # Edited since the last run: since its as-of moment or its start, whichever is
        # earlier (a run --as-of a future date must not hide the edits made before it).
        changed=runs.changed_seqs(
            con, last_seq, min(last.as_of, last.started_at) if last else None
        ),
        duplicate_groups=runs.duplicate_groups(con),
        fading=runs.fading_candidates(con),
        kept_apart=runs.kept_apart_pairs(con),
        needs_erasure=store_meta.get_meta(con, "needs_erasure") == "1",
        free_share=free / total if total else 0.0,
        free_bytes=free * block,
        missing_vectors=len(index.seqs_without_vectors(con, model)) if model else 0,
    )


def _backfill(ctx: Context, report: Report, progress: Progress | None) -> bool:
    """Embed memories stored without a vector (the model was missing when they were added)."""
    step = None if progress is None else (lambda d, t: progress("embedding", d, t))
    try:
        report.backfilled = reindex(ctx, missing_only=True, progress=step).embedded
    except ModelUnavailable as exc:
        report.notices.append(f"vectors not backfilled: {exc.message}")
        return False
    return True


def _describe(plan: Plan, report: Report) -> None:
    report.merged = [
        {"id": m.merged.id, "into": m.keeper.id, "kind": m.kind, "cosine": _round(m.cosine)}
        for m in plan.merges
    ]
    report.superseded = [
        {"id": s.old.id, "by": s.new.id, "cosine": _round(s.cosine)} for s in plan.supersessions
    ]
    report.archived = [{"id": f.memory_id, "retention": round(f.retention, 4)} for f in plan.fades]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _apply(con: duckdb.DuckDBPyConnection, plan: Plan, now: datetime, report: Report) -> None:
    """Apply what is still valid: a memory changed or archived since it was read is left
    for the next run (and dropped from the report)."""
    paired = {m.merged.seq for m in plan.merges} | {m.keeper.seq for m in plan.merges}
    paired |= {s.old.seq for s in plan.supersessions} | {s.new.seq for s in plan.supersessions}
    current = rows.get_by_seqs(con, sorted(paired))

    def unchanged(memory: Memory) -> bool:
        now_row = current.get(memory.seq)
        return (
            now_row is not None
            and now_row.state == "active"
            and now_row.updated_at == memory.updated_at
        )

    applied_merges = [m for m in plan.merges if unchanged(m.merged) and unchanged(m.keeper)]
    applied_supersessions = [s for s in plan.supersessions if unchanged(s.old) and unchanged(s.new)]
    for merge in applied_merges:
        _merge(con, merge, current, now)
    for supersession in applied_supersessions:
        _supersede(con, supersession, now)
    still = runs.still_fading(con, [f.seq for f in plan.fades])
    applied_fades = [f for f in plan.fades if f.seq in still and still[f.seq] <= f.touched]
    rows.archive_many(con, [f.seq for f in applied_fades], now)
    event_log.add_events(
        con,
        [f.memory_id for f in applied_fades],
        now,
        "archived",
        [f"faded: retention {f.retention:.3f}" for f in applied_fades],
    )
    report.merged = [r for r in report.merged if r["id"] in {m.merged.id for m in applied_merges}]
    report.superseded = [
        r for r in report.superseded if r["id"] in {s.old.id for s in applied_supersessions}
    ]
    report.archived = [
        r for r in report.archived if r["id"] in {f.memory_id for f in applied_fades}
    ]


def _merge(
    con: duckdb.DuckDBPyConnection, merge: Merge, current: dict[int, Memory], now: datetime
) -> None:
    """Fold `merge.merged` into its keeper, recording what changed so restore can undo it."""
    keeper = current[merge.keeper.seq]
    merged = current[merge.merged.seq]
    added_tags = [t for t in merged.tags if t not in keeper.tags]
    added = merged.reinforcements + 1  # the copy itself was one more time it was noted
    runs.add_merge(
        con,
        runs.MergeRecord(
            merged.id, keeper.id, merge.kind, added_tags, added, keeper.importance, keeper.pinned
        ),
        now,
    )
    touched = max(filter(None, (keeper.reinforced_at, merged.reinforced_at, merged.added_at)))
    runs.merge_into_keeper(
        con,
        keeper.seq,
        keeper.tags + added_tags,
        added,
        touched,
        max(keeper.importance, merged.importance),
        keeper.pinned or merged.pinned,
        now,
    )
    current[keeper.seq] = rows.get_by_seqs(con, [keeper.seq])[keeper.seq]
    rows.update_fields(con, merged.seq, now, state="archived", superseded_by=keeper.id)
    event_log.add_event(con, merged.id, now, "merged", f"into={keeper.id} kind={merge.kind}")
    event_log.add_event(con, keeper.id, now, "absorbed", f"from={merged.id} kind={merge.kind}")


def _supersede(con: duckdb.DuckDBPyConnection, supersession: Supersession, now: datetime) -> None:
    old, new = supersession.old, supersession.new
    rows.update_fields(con, old.seq, now, state="archived", superseded_by=new.id)
    event_log.add_event(con, old.id, now, "superseded", f"by={new.id} (consolidate: same subject)")
    event_log.add_event(con, new.id, now, "supersedes", f"old={old.id} (consolidate)")


def _rewrite(store: Store, report: Report) -> None:
    """Erase and compact: a fresh copy of the file replaces it (memcli.store.rewrite)."""
    run_id = report.run_id

    def mark_run(con: duckdb.DuckDBPyConnection, schema: str) -> None:
        runs.mark_run_erased(con, schema, run_id)

    result = erase(store, also=mark_run)
    report.bytes_before, report.bytes_after = result.bytes_before, result.bytes_after
