"""Files readable by their owner only: the store, its key-slot file and every export.

One function for every path that creates such a file (``database.connect`` for the store,
``SlotFile.save`` for the key slots, the exports and printouts), so none of them can forget.

* POSIX: the file is created with mode 0600 (``os.open`` with the mode, so there is no moment
  at which it is readable by others) and chmod-ed to 0600 if it existed with a wider mode.
* Windows: there are no mode bits; the file's ACL is reduced to the current user with
  ``icacls <file> /inheritance:r /grant:r <user>:F`` — a documented best effort, *not tested
  here* (no Windows machine): a failure of icacls is logged, not raised, because the store is
  encrypted either way and an unreadable error must not lose an export the user asked for.
"""

from __future__ import annotations

import getpass
import logging
import os
import stat
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

OWNER_ONLY = 0o600


def restrict_to_owner(path: Path | str) -> None:
    """Make an existing file readable and writable by its owner only (see the module docstring)."""
    path = Path(path)
    if os.name == "nt":  # pragma: no cover - Windows only, untested here
        _windows_acl(path)
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode != OWNER_ONLY:
        os.chmod(path, OWNER_ONLY)


def create_owner_only(path: Path | str) -> None:
    """Create ``path`` empty with owner-only permissions if it does not exist yet."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    restrict_to_owner(path)


def write_owner_only(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` (replacing it) so that only the owner can read it."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), OWNER_ONLY)
    try:
        # An existing file keeps its old mode through O_TRUNC: narrow it before writing.
        if os.name != "nt":
            os.fchmod(fd, OWNER_ONLY)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    if os.name == "nt":  # pragma: no cover - Windows only
        _windows_acl(path)
    return path


def _windows_acl(path: Path) -> None:  # pragma: no cover - Windows only, untested here
    user = os.environ.get("USERNAME") or getpass.getuser()
    domain = os.environ.get("USERDOMAIN")
    who = f"{domain}\\{user}" if domain else user
    try:
        done = subprocess.run(["icacls", str(path), "/inheritance:r", "/grant:r", f"{who}:F"],
                              capture_output=True, check=False, timeout=30)
        if done.returncode != 0:
            log.warning("icacls could not restrict %s (exit %s)", path.name, done.returncode)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("icacls could not restrict %s: %s", path.name, exc.__class__.__name__)
