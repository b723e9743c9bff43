"""What a path names, checked before it is opened: opening a FIFO blocks until something writes to it,
and a device or socket is no model either, so only regular files (and directories, for a SavedModel,
whose every entry must be one of the two) are opened. Symbolic links are judged by what they point to.
"""

from __future__ import annotations

import os
import stat

from ..errors import ModelError

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refuse(shown: str, what: str, wanted: str, entry: str | None = None) -> ModelError:
    where = f"{shown}: {entry}" if entry else shown
    return ModelError(f"{where} is {what}, not {wanted}: refused before opening it", file=shown)


def path_kind(path: str, shown: str, folders: bool = True) -> str:
    """``"file"`` or ``"folder"`` (only if `folders`); anything else is refused by what it is.

    :raises ModelError: for a missing path, or one that names a FIFO, socket or device.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ModelError(f"{shown}: no such file", file=shown) from None
    except OSError as exc:
        raise ModelError(f"{shown}: cannot be read: {exc.strerror}", file=shown) from None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode) and folders:
        return "folder"
    raise _refuse(shown, "a folder" if stat.S_ISDIR(mode) else _kind(mode), "a regular file or a folder" if folders else "a regular file")


def check_folder_entries(path: str, shown: str) -> None:
    """Refuses a folder holding anything but regular files and folders (TensorFlow would open it)."""
    for root, dirs, files in os.walk(path):
        for name in files + dirs:
            full = os.path.join(root, name)
            try:
                mode = os.stat(full).st_mode
            except OSError as exc:
                raise ModelError(f"{shown}: {os.path.relpath(full, path)} cannot be read: {exc.strerror}", file=shown) from None
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise _refuse(shown, _kind(mode), "a regular file or a folder", os.path.relpath(full, path))
