"""reindex, stats and doctor."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from memcli import __version__
from memcli.embed import forget_failed_download, model_info
from memcli.errors import MemcliError, ModelUnavailable
from memcli.search.fusion import FUSION_VERSION
from memcli.search.tokenizer import TOKENIZER_VERSION
from memcli.security import keys
from memcli.service.context import Context
from memcli.service.ingest import VECTORS_MISSING, embed_prepared, prepare, write_index
from memcli.store import consolidation as runs
from memcli.store import index
from memcli.store import memories as rows
from memcli.store import meta as store_meta
from memcli.store.connection import Store, rewrite_leftovers
from memcli.store.encryption import is_encrypted
from memcli.store.migrations import CURRENT_VERSION
from memcli.timeparse import humanize_age, to_utc_iso


@dataclass
class ReindexReport:
    memories: int = 0
    embedded: int = 0
    model: str | None = None


def reindex(
    ctx: Context,
    *,
    missing_only: bool,
    progress: Callable[[int, int], None] | None = None,
    limit: int | None = None,
) -> ReindexReport:
    """Rebuild the keyword index and re-embed (all, or only memories lacking a vector, at
    most `limit` of them: the rest are left for the next call)."""
    embedder = ctx.embedder()
    if embedder is None:
        assert ctx.model_error is not None
        raise ModelUnavailable(
            f"reindex needs the embedding model: {ctx.model_error.message}", ctx.model_error.hint
        )
    with ctx.store(write=False) as store:
        if missing_only:
            wanted = index.seqs_without_vectors(store.con, embedder.name)
            pairs = index.texts(store.con, wanted[:limit] if limit is not None else wanted)
            left = len(wanted) - len(pairs)
        else:
            pairs = index.texts(store.con, rows.all_seqs(store.con))
            left = 0
    prepared = [prepare(text) for _, text in pairs]
    vectors: list[Any] = []
    for start in range(0, len(prepared), 256):
        vectors.extend(embed_prepared(embedder, prepared[start : start + 256]))
        if progress is not None:
            progress(min(start + 256, len(prepared)), len(prepared))
    with ctx.store(write=True) as store, store.transaction() as con:
        present = {s for s, _ in index.texts(con, [s for s, _ in pairs])}
        for (seq, _), item, item_vectors in zip(pairs, prepared, vectors, strict=True):
            if seq in present:  # forgotten meanwhile: skip
                write_index(con, seq, item, item_vectors, embedder.name)
        store_meta.set_meta(con, "tokenizer_version", str(TOKENIZER_VERSION))
        if left == 0:
            store_meta.set_meta(con, VECTORS_MISSING, "")
    return ReindexReport(len(pairs), len(pairs), embedder.name)


def missing_vectors(ctx: Context) -> int:
    """How many memories have no vector of the loaded model (0 without the model)."""
    embedder = ctx.embedder()
    if embedder is None:
        return 0
    with ctx.store(write=False) as store:
        if not store_meta.get_meta(store.con, VECTORS_MISSING):
            return 0
        return len(index.seqs_without_vectors(store.con, embedder.name))


def model_status(ctx: Context) -> dict[str, Any]:
    settings = ctx.settings.model
    status: dict[str, Any] = {"name": settings.name, "path": str(settings.path or "") or None}
    try:
        status["dim"] = model_info(settings).dim
    except ModelUnavailable as exc:
        status.update(available=False, reason=exc.message)
        return status
    embedder = ctx.embedder()
    status["available"] = embedder is not None
    if ctx.model_error is not None:
        status["reason"] = ctx.model_error.message
    return status


def stats(ctx: Context, load_model: bool = True) -> dict[str, Any]:
    path = ctx.settings.db_path
    report: dict[str, Any] = {
        "version": __version__,
        "store": str(path),
        "exists": path.exists(),
        "fusion": FUSION_VERSION,
        "tokenizer_version": TOKENIZER_VERSION,
        "encryption": "off",
        "keyring": "not used (store not encrypted)",
    }
    if load_model:
        report["model"] = model_status(ctx)
    if not path.exists():
        return report
    report["size_bytes"] = path.stat().st_size + _size(path.with_name(path.name + ".wal"))
    with ctx.store(write=False) as store:
        con = store.con
        if store.key is not None:
            report["encryption"] = "on (DuckDB AES-GCM)"
            report["keyring"] = f"key from {store.key.where(path)}"
        report["schema_version"] = CURRENT_VERSION
        report["memories"] = rows.counts(con)
        report["sources"] = rows.source_counts(con)
        report["vectors"] = index.vector_counts(con, ctx.settings.model.name)
        postings, terms = index.postings_counts(con)
        report["keyword_index"] = {"postings": postings, "terms": terms}
        stored_tok = store_meta.get_meta(con, "tokenizer_version")
        report["index_tokenizer_version"] = int(stored_tok) if stored_tok else TOKENIZER_VERSION
        report["last_consolidation"] = _last_consolidation(con)
        report["erasure_pending"] = store_meta.get_meta(con, "needs_erasure") == "1"
    return report


def _last_consolidation(con: Any) -> dict[str, Any] | None:
    """When the nightly job last ran and what it did (None: never)."""
    last = runs.last_run(con)
    if last is None:
        return None
    return {
        "at": to_utc_iso(last.started_at),
        "as_of": to_utc_iso(last.as_of),
        "merged": len(last.report.get("merged", [])),
        "superseded": len(last.report.get("superseded", [])),
        "archived": len(last.report.get("archived", [])),
        "rewrote_file": last.erased,
    }


def _size(path: os.PathLike[str]) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    hint: str | None = None


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def doctor(ctx: Context) -> DoctorReport:
    """Check the store, its permissions, its indexes and the model, and explain problems."""
    forget_failed_download(ctx.settings.cache_dir)  # doctor always retries the download
    report = DoctorReport()
    checks = report.checks
    path = ctx.settings.db_path
    checks.append(Check("config", True, str(ctx.settings.config_file)))
    model = model_status(ctx)
    checks.append(
        Check(
            "model",
            bool(model.get("available")),
            f"{model['name']} ({'loaded' if model.get('available') else model.get('reason')})",
            None if model.get("available") else (ctx.model_error.hint if ctx.model_error else None),
        )
    )
    _, keyring_detail = keys.keyring_status()
    checks.append(Check("keyring", True, keyring_detail))
    if not path.exists():
        checks.append(Check("store", True, f"{path} does not exist yet (memcli add creates it)"))
        return report
    checks.append(_permissions(path))
    if rewrite_leftovers(path):
        checks.append(_leftovers(path))
    try:
        with ctx.store(write=False) as store:
            checks.append(_encryption(store))
            _store_checks(ctx, store.con, checks)
    except MemcliError as exc:
        if is_encrypted(path):
            checks.append(Check("encryption", True, "on (DuckDB AES-GCM)"))
        checks.append(Check("store", False, exc.message, exc.hint))
    return report


def _permissions(path: Path) -> Check:
    """The store and its WAL are owner-only, and nobody else may write in its folder (they
    could replace the store or plant a WAL). A folder others can only list is reported but
    accepted: memcli makes its own folders 0700 and leaves a folder the user chose alone."""
    loose, fixes = [], []
    # DuckDB 1.5 may keep a second log while it checkpoints (.wal.checkpoint, .wal.recovery).
    logs = [
        _wal(path),
        *(path.with_name(f"{path.name}.wal.{k}") for k in ("checkpoint", "recovery")),
    ]
    for candidate, allowed, fix in (
        (path, 0o000, "chmod 600"),
        *((log, 0o000, "chmod 600") for log in logs),
        (path.parent, 0o055, "chmod 700"),
    ):
        if candidate.exists():
            mode = stat.S_IMODE(candidate.stat().st_mode)
            if mode & 0o077 & ~allowed:
                loose.append(f"{candidate} is {mode:04o}")
                fixes.append(f"{fix} {candidate}")
    if loose:
        return Check("permissions", False, ", ".join(loose), "; ".join(fixes))
    folder_mode = stat.S_IMODE(path.parent.stat().st_mode)
    if folder_mode & 0o077:
        detail = f"{path} is owner-only; its folder is {folder_mode:04o} (others see file names)"
    else:
        detail = f"{path} and its folder are owner-only"
    return Check("permissions", True, detail)


def _leftovers(path: Path) -> Check:
    """Copies left by a killed rewrite (consolidate's erasure, encrypt, decrypt). Beside an
    encrypted store, a copy that is not encrypted itself (a decrypt's) may hold plaintext."""
    store_encrypted = is_encrypted(path)
    found = []
    for leftover in rewrite_leftovers(path):
        plain = store_encrypted and not is_encrypted(leftover)
        found.append(f"{leftover.name}{' (may hold plaintext)' if plain else ''}")
    return Check(
        "leftovers",
        False,
        f"an interrupted rewrite left {', '.join(found)} in {path.parent}",
        "the next memcli command that writes removes them (memcli consolidate, or delete them)",
    )


def _encryption(store: Store) -> Check:
    if store.key is None:
        return Check("encryption", True, "off (memcli encrypt turns it on)")
    return Check("encryption", True, f"on (DuckDB AES-GCM), key from {store.key.where(store.path)}")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _store_checks(ctx: Context, con: Any, checks: list[Check]) -> None:
    checks.append(Check("store", True, f"schema {CURRENT_VERSION}, opens cleanly"))
    consistent = index.postings_match_memories(con)
    checks.append(
        Check(
            "keyword index",
            consistent,
            "consistent" if consistent else "postings do not match the memories",
            "run memcli reindex",
        )
    )
    checks.append(_unique_keys_check(con))
    stored_tok = store_meta.get_meta(con, "tokenizer_version")
    if stored_tok and int(stored_tok) != TOKENIZER_VERSION:
        checks.append(
            Check(
                "tokenizer",
                False,
                f"index built with tokenizer v{stored_tok}",
                "run memcli reindex",
            )
        )
    vectors = index.vector_counts(con, ctx.settings.model.name)
    lacking = vectors["missing"] + vectors["other_model"]
    checks.append(
        Check(
            "vectors",
            lacking == 0,
            f"{vectors['current']} with {ctx.settings.model.name}, {lacking} without",
            "run memcli reindex --missing (or memcli reindex after a model change)",
        )
    )
    checks.append(_consolidation_check(ctx, con))


def _unique_keys_check(con: Any) -> Check:
    """No two memories share an id or a seq. The store does not enforce it (schema 4 has
    no index on memories: see migrations.m004); memcli's writers guarantee it."""
    extra_ids, extra_seqs = rows.repeated_keys(con)
    if not extra_ids and not extra_seqs:
        return Check("memory ids", True, "unique")
    return Check(
        "memory ids",
        False,
        f"{extra_ids} repeated id(s), {extra_seqs} repeated seq(s)",
        "this is a bug: memcli export --all, then report it with this output",
    )


def _consolidation_check(ctx: Context, con: Any) -> Check:
    """When the nightly job last ran: a store that forgot something and was not consolidated
    for days still holds the forgotten bytes (not a failure: it is explained)."""
    last = runs.last_run(con)
    pending = store_meta.get_meta(con, "needs_erasure") == "1"
    advice = " (memcli schedule install runs memcli consolidate every night)"
    if last is None:
        detail = "never run" + ("; forgotten text awaits erasure" if pending else "")
        return Check("consolidate", True, detail + advice)
    detail = f"last run {humanize_age(last.started_at, ctx.now())} ago"
    detail += "; forgotten text awaits erasure" if pending else ""
    stale = ctx.now() - last.started_at > timedelta(days=2)
    return Check("consolidate", True, detail + (advice if stale or pending else ""))
