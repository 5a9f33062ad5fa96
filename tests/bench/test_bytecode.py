"""bench/common.compile_memcli: the bench times memcli as installed, with its bytecode
written (this host sets PYTHONDONTWRITEBYTECODE, so imports never write it)."""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_module_has_current_bytecode_after_compile_memcli() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from common import compile_memcli
    finally:
        sys.path.remove(str(ROOT / "bench"))
    compile_memcli()
    sources = sorted((ROOT / "memcli").rglob("*.py"))
    assert len(sources) > 40
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        header = cached.read_bytes()[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER, source
        flags, mtime, size = struct.unpack("<III", header[4:16])
        stat = source.stat()
        # A timestamp-checked .pyc that the import system accepts for this source.
        assert flags == 0 and mtime == int(stat.st_mtime) & 0xFFFFFFFF, source
        assert size == stat.st_size & 0xFFFFFFFF, source
