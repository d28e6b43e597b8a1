"""Atomic writes of exported files: a killed export never leaves a half-written file at the
final name, and a killed re-export keeps the previous good one.

Writers write to a temporary name in the target's folder (same file system, so the final
rename is atomic) and the file is renamed into place only when complete. A file that comes as
a pair (OpenVINO's ``.xml`` + ``.bin``) cannot be renamed in one step: a journal file beside
it (``.<name>.incomplete``) is written before the renames and removed after the last, so a kill
in between leaves a mark that :func:`check_complete` turns into a clear error.
"""

from __future__ import annotations

import glob
import os
import shutil
import uuid
from contextlib import contextmanager
from typing import Iterator, List, Sequence, Union

from .errors import UserError

__all__ = ["atomic_output", "check_complete", "journal_path", "publish_files"]

PathLike = Union[str, os.PathLike]
_PART = ".part-"


def journal_path(path: PathLike) -> str:
    """The mark of an interrupted multi-file write of ``path``."""
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    return os.path.join(folder, f".{name}.incomplete")


def _temp_stem(target: str) -> str:
    folder, name = os.path.split(os.path.abspath(target))
    stem = os.path.splitext(name)[0]
    return os.path.join(folder, f".{stem}{_PART}{uuid.uuid4().hex[:8]}")


def _remove_stale_parts(target: str) -> None:
    """Temporary files of earlier, killed writes of ``target`` (only this module's names)."""
    folder, name = os.path.split(os.path.abspath(target))
    stem = os.path.splitext(name)[0]
    for path in glob.glob(os.path.join(glob.escape(folder), f".{glob.escape(stem)}{_PART}*")):
        os.remove(path)


def _commit(pairs: Sequence[tuple]) -> None:
    """Rename each (temporary, final) pair; the first final name is the main file, renamed last."""
    main = pairs[0][1]
    journal = journal_path(main) if len(pairs) > 1 else None
    if journal:
        with open(journal, "w") as handle:
            handle.write("\n".join(final for _, final in pairs) + "\n")
    for temp, final in [*pairs[1:], pairs[0]]:
        os.replace(temp, final)
    if journal:
        os.remove(journal)


@contextmanager
def atomic_output(path: PathLike, companions: Sequence[str] = ()) -> Iterator[str]:
    """Yield a temporary path (same folder and suffix) to write ``path`` to; renamed into place
    when the block ends without error, removed when it fails.

    ``companions``: suffixes of files the writer puts beside the temporary path under its stem
    (``(".bin",)`` for an OpenVINO ``.xml``); they are renamed to ``path``'s stem with the same
    suffix, before ``path`` itself, under a journal (see :func:`check_complete`).
    """
    target = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    _remove_stale_parts(target)
    temp_stem = _temp_stem(target)
    suffix = os.path.splitext(target)[1]
    stem = os.path.splitext(target)[0]
    pairs = [(temp_stem + suffix, target)] + [(temp_stem + c, stem + c) for c in companions]
    try:
        yield pairs[0][0]
        missing = [temp for temp, _ in pairs if not os.path.isfile(temp)]
        if missing:
            raise RuntimeError(f"the writer of {target} did not write {missing}")
        _commit(pairs)
    finally:
        for temp, _ in pairs:
            if os.path.exists(temp):
                os.remove(temp)


def publish_files(sources: Sequence[PathLike], targets: Sequence[PathLike]) -> List[str]:
    """Move finished files (e.g. from a temporary folder on another file system) to ``targets``
    atomically: copied next to each target first, then renamed; ``targets[0]`` last."""
    targets = [os.fspath(t) for t in targets]
    pairs = []
    try:
        for source, target in zip(sources, targets):
            os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
            temp = _temp_stem(target) + os.path.splitext(target)[1]
            pairs.append((temp, target))
            shutil.copyfile(os.fspath(source), temp)
        _commit(pairs)
    finally:
        for temp, _ in pairs:
            if os.path.exists(temp):
                os.remove(temp)
    return targets


def check_complete(path: PathLike) -> None:
    """Raise UserError when a multi-file write of ``path`` was interrupted between its renames
    (its files may be of two different exports)."""
    if os.path.exists(journal_path(path)):
        raise UserError(
            f"{os.fspath(path)}: its export was interrupted while its files were being renamed "
            "into place (they may be of two different exports); export it again"
        )
