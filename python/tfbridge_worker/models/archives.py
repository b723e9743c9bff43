"""Bounds on zip archives (.keras, .npz) before anything in them is read: a 1 MB file can say 1 GiB.

Every member's declared size is checked against the bounds of protocol/bounds.json, and against its
stored size (Keras stores members uncompressed and DEFLATE cannot expand more than ~1032:1, so a large
member that expands more than ``maxExpansion`` times is a bomb, not a model). zipfile never yields more
than a member declares (it stops there and fails the CRC), so a bound on the declared size bounds the
read too: a member that holds more than it declares is a corrupt archive, not a larger read.
"""

from __future__ import annotations

import zipfile

from ..errors import ModelError
from ..protocol import BOUNDS

ARCHIVE_BOUNDS: dict[str, int] = BOUNDS["archive"]
MAX_MEMBER_BYTES: int = ARCHIVE_BOUNDS["maxMemberBytes"]
MAX_TOTAL_BYTES: int = ARCHIVE_BOUNDS["maxTotalBytes"]
MAX_EXPANSION: int = ARCHIVE_BOUNDS["maxExpansion"]
EXPANSION_FLOOR_BYTES: int = ARCHIVE_BOUNDS["expansionFloorBytes"]
MAX_MEMBERS: int = ARCHIVE_BOUNDS["maxMembers"]


def _refused(shown: str, member: str | None, what: str, found: int, bound: str, limit: int) -> ModelError:
    where = f"{shown}: member {member}" if member else shown
    return ModelError(
        f"{where}: {what} {found:,} bytes, over the bound of {limit:,} ({bound}; docs/security.md); "
        "refused before anything in the archive was read",
        file=shown, member=member, bound=bound, limit=limit, found=found,
    )


def check_archive(archive: zipfile.ZipFile, shown: str, total_limit: int = MAX_TOTAL_BYTES) -> None:
    """Refuses an archive whose central directory declares too much: members, sizes, expansion.

    :raises ModelError: naming the file, the member and the bound (``details.member``, ``bound``, ``limit``, ``found``).
    """
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ModelError(f"{shown}: {len(infos):,} members, over the bound of {MAX_MEMBERS:,} (maxMembers; docs/security.md)",
                         file=shown, bound="maxMembers", limit=MAX_MEMBERS, found=len(infos))
    total = 0
    for info in infos:
        size = info.file_size
        if size > MAX_MEMBER_BYTES:
            raise _refused(shown, info.filename, "declares", size, "maxMemberBytes", MAX_MEMBER_BYTES)
        if size > EXPANSION_FLOOR_BYTES and size > MAX_EXPANSION * max(info.compress_size, 1):
            raise ModelError(
                f"{shown}: member {info.filename}: declares {size:,} bytes from {info.compress_size:,} stored, an "
                f"expansion over {MAX_EXPANSION}× (maxExpansion; docs/security.md): a zip bomb, not a model; "
                "refused before anything in the archive was read",
                file=shown, member=info.filename, bound="maxExpansion", limit=MAX_EXPANSION, found=size,
            )
        total += size
        if total > total_limit:
            raise _refused(shown, None, "its members declare more than", total, "maxTotalBytes", total_limit)


def read_member(archive: zipfile.ZipFile, name: str, shown: str, limit: int, bound: str) -> bytes:
    """Member `name`, refused if it declares more than `limit` bytes (zipfile reads no more than declared).

    :raises KeyError: if there is no such member.
    :raises ModelError: naming the file, the member and the bound.
    """
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise _refused(shown, name, "declares", info.file_size, bound, limit)
    return archive.read(info)
