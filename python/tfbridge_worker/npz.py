"""The arrays of a .npz (or .npy) file, read within bounds and never unpickled.

A .npy header declares a dtype and a shape, and NumPy allocates what they say before reading; a .npz
is a zip of .npy files, so a small file can declare gigabytes. Every header is read first: an object
array (pickled Python objects) is refused by name, and so is an array whose declared size disagrees
with the bytes stored for it or would not fit in one reply (the wire's message cap), before NumPy
allocates anything. The archive itself is bounded as a .keras file is (models/archives.py).
"""

from __future__ import annotations

import os
import zipfile
from typing import IO

import numpy as np
from numpy.lib import format as npy

from .errors import ModelError
from .models.archives import check_archive
from .models.file_kinds import path_kind
from .protocol import max_message_bytes, wire_name


def _header(f: IO[bytes], path: str, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran order, dtype) as the .npy header declares them; nothing is allocated for them."""
    try:
        version = npy.read_magic(f)
        if version == (1, 0):
            return npy.read_array_header_1_0(f)
        if version == (2, 0):
            return npy.read_array_header_2_0(f)
        raise ValueError(f".npy format version {version} (this reader takes 1.0 and 2.0)")
    except ValueError as exc:
        raise ModelError(f"{path}: array {name} is not a .npy array: {exc}", file=path, member=name) from None


def _declared(path: str, name: str, header: tuple[tuple[int, ...], bool, np.dtype], stored: int) -> int:
    """The bytes the header declares, refused for an object array or a size the stored bytes do not hold."""
    shape, _, dtype = header
    if dtype.hasobject:
        raise ModelError(f"{path}: array {name} holds pickled Python objects ({dtype}); tfbridge never unpickles",
                         file=path, member=name)
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if nbytes != stored:
        raise ModelError(f"{path}: array {name} declares {list(shape)} {dtype} ({nbytes:,} bytes) but {stored:,} bytes are stored",
                         file=path, member=name)
    return nbytes


def _sendable(path: str, name: str, array: np.ndarray) -> np.ndarray:
    """One array as the wire can carry it (text as ``string``); ModelError names the array that cannot go."""
    try:
        wire_name(array.dtype)
        if array.dtype.kind == "S":  # bytes: sent as text, so they must be UTF-8; said here, with the file's name
            np.char.decode(array, "utf-8")
    except (KeyError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: array {name} ({array.dtype}) cannot be sent: {exc}", file=path) from None
    return array


def _over_reply(path: str, total: int) -> ModelError:
    cap = max_message_bytes()
    return ModelError(f"{path}: its arrays declare {total:,} bytes, more than one reply carries ({cap:,}; "
                      "docs/security.md)", file=path, bound="maxMessageBytes", limit=cap, found=total)


def _read_npy(path: str) -> tuple[list[np.ndarray], list[str]]:
    with open(path, "rb") as f:
        header = _header(f, path, "arr_0")
        total = _declared(path, "arr_0", header, os.fstat(f.fileno()).st_size - f.tell())
        if total > max_message_bytes():
            raise _over_reply(path, total)
        f.seek(0)
        return [_sendable(path, "arr_0", npy.read_array(f, allow_pickle=False))], ["arr_0"]


def _read_npz(path: str) -> tuple[list[np.ndarray], list[str]]:
    with zipfile.ZipFile(path) as archive:
        check_archive(archive, path, max_message_bytes())
        members = archive.infolist()
        strays = [info.filename for info in members if not info.filename.endswith(".npy")]
        if strays:
            raise ModelError(f"{path}: holds {strays[0]}, which is not a .npy array", file=path, member=strays[0])
        total = 0
        for info in members:
            with archive.open(info) as f:
                header = _header(f, path, info.filename[:-4])
                total += _declared(path, info.filename[:-4], header, info.file_size - f.tell())
        if total > max_message_bytes():
            raise _over_reply(path, total)
        arrays, names = [], []
        for info in members:
            name = info.filename[:-4]
            with archive.open(info) as f:
                arrays.append(_sendable(path, name, npy.read_array(f, allow_pickle=False)))
            names.append(name)
        return arrays, names


def read_npz(path: object) -> tuple[list[np.ndarray], list[str]]:
    """The arrays of a .npz or .npy file on this machine and their names (a .npy's one array is ``arr_0``).

    :raises ModelError: for a path that is not a regular file, a file that is neither, a pickled object
        array, or declared sizes over the bounds (naming the file, the array and the bound).
    """
    if not isinstance(path, str) or not path:
        raise ModelError(f"npz.load needs a path, got {path!r}")
    path_kind(path, path, folders=False)
    try:
        if zipfile.is_zipfile(path):
            return _read_npz(path)
        return _read_npy(path)
    except ModelError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:  # short or corrupt data
        raise ModelError(f"{path}: not a NumPy .npz/.npy file: {exc}", file=path) from exc
