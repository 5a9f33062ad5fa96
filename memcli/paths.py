"""Owner-only folders for the store, its backups and the model cache."""

from __future__ import annotations

import os
from pathlib import Path


def private_dirs(folder: Path) -> None:
    """Create `folder` and any missing parents as 0700 (mkdir's mode obeys the umask)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
