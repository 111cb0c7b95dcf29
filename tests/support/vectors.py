"""Where the shared external test vectors are: ``shared/vectors`` in the nearest ancestor folder
(the main checkout's sibling ``shared/``, also from a git worktree nested one level deeper)."""

from __future__ import annotations

from pathlib import Path


def vectors_dir() -> Path:
    here = Path(__file__).resolve()
    for folder in here.parents:
        candidate = folder / "shared" / "vectors"
        if candidate.is_dir():
            return candidate
    return here.parents[3] / "shared" / "vectors"
