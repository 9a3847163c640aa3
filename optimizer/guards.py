"""Checks made before any work starts, so that nothing is lost and nothing fails late (issue 14).

Every command calls these before it solves anything:

- :func:`check_outputs` — no output overwrites a file the run reads, no two outputs share a path, and
  every output can be written (not a folder, not under a file, not on a read-only or full disk, a
  name the file system accepts). A solve of an hour must not end in "cannot write".
- :func:`check_solver_options` — ``--time-limit``, ``--mip-gap`` and ``--threads`` follow the same
  rule as the Settings sheet's ``time_limit_s``, ``mip_gap`` and ``threads`` (declared once, in
  :mod:`optimizer.schema`).
- :func:`check_count` — every size that multiplies (outcomes, sub-coalitions, sweep points) against
  a stated limit, with what to do instead.
- :func:`describe_os_error` — one sentence for an error of the environment (disk full, permission
  denied, read-only file system), for the command's last line of defence.

A failed check raises :class:`GuardError` carrying the exit status: 2 when the command line or the
input asks for something impossible, 3 when the environment (disk, permissions) is at fault.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3

NAME_MAX_BYTES = 255
"""Longest file name (one path component) on the usual file systems (ext4, APFS, NTFS in UTF-16)."""

MIN_FREE_BYTES = 16 * 1024 * 1024
"""Free space below which an output is refused before solving: a results workbook of the shipped
case is ~1 MB; a disk this full would fail the write after the solve."""

SQLITE_MAGIC = b"SQLite format 3\x00"

MAX_WORKERS = 256
"""Most local Dask workers (processes) one command starts; each holds a copy of the model."""

MAX_RANDOM_PLANS = 1000
"""Most random plans of one `alternatives` study; each is a full solve (minutes on the base)."""


class GuardError(Exception):
    """A check failed before any work started.

    Parameters
    ----------
    message : one sentence: what is wrong and what to do instead.
    code : exit status: 2 bad input or command line, 3 the environment (disk, permissions).
    """

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Output:
    """One path a command will write.

    Attributes
    ----------
    option : how the user named it, for messages (``-o``, ``--store``, ``TARGET``).
    path : the file (or folder, when ``folder``) to write.
    folder : the output is a folder of files (a CSV folder, a plots folder), not one file.
    store : the output is a SQLite store that may already exist and is then reused: an existing
        file must be a SQLite database.
    suffix : the extension the file must carry (case ignored), ``None`` for any: results are
        Excel workbooks, and one written under ``.csv`` or with no extension opens in Excel or
        LibreOffice as garbage or not at all, so it is refused rather than renamed behind the
        user's back. Ignored for folders and stores.
    """

    option: str
    path: Path
    folder: bool = False
    store: bool = False
    suffix: str | None = ".xlsx"


def _files_read(inputs: Iterable[Path]) -> list[Path]:
    """Every file a run reads: each input file, and each file directly in an input folder."""
    out: list[Path] = []
    for p in inputs:
        p = Path(p)
        out.append(p)
        if p.is_dir():
            out += [f for f in p.iterdir() if not f.is_dir()]
    return out


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (links and ``..`` resolved; either may not exist yet)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return _resolved(a) == _resolved(b)


def _resolved(p: Path) -> Path:
    try:
        return Path(p).resolve()
    except (OSError, RuntimeError):  # a link loop: compare as written
        return Path(os.path.abspath(p))


def _inside(child: Path, folder: Path) -> bool:
    c, f = _resolved(child), _resolved(folder)
    return c == f or f in c.parents


def _existing_ancestor(p: Path) -> Path:
    """The nearest ancestor of ``p`` that exists (``p``'s folder when it exists)."""
    q = _resolved(p).parent
    while not q.exists() and q != q.parent:
        q = q.parent
    return q


def check_outputs(outputs: Sequence[Output], inputs: Iterable[Path] = ()) -> None:
    """Refuse, before any work, outputs that would destroy an input, collide, or fail to write.

    Parameters
    ----------
    outputs : every path the run will write.
    inputs : every file or folder the run reads (a folder stands for the files directly in it).

    Raises
    ------
    GuardError
        exit 2: an output is an input (or an input folder, or inside a folder the run writes as a
        whole), two outputs share a path, an output is a folder or sits under a file, a name is too
        long, a store is not a store; exit 3: the folder is not writable (permissions, read-only
        file system) or the disk is nearly full.
    """
    inputs = [Path(p) for p in inputs]
    read = _files_read(inputs)
    for o in outputs:
        p = Path(o.path)
        name = f"{o.option} {p}"
        if "\x00" in str(p):
            raise GuardError(f"{o.option}: the path holds a NUL character; name a plain file")
        for f in read:
            if _same(p, f):
                raise GuardError(
                    f"{name} is {'the input' if f in inputs else 'a file of the input'} {f}: "
                    "the run would overwrite what it reads; name a new file"
                )
        for i in inputs:
            if i.is_dir() and (_inside(p, i) if o.folder else False):
                raise GuardError(
                    f"{name} is the input folder {i} (or inside it): converting or writing there "
                    "would overwrite what the run reads; name another folder"
                )
            if o.folder and _inside(i, p):
                raise GuardError(
                    f"{name} holds the input {i}: writing the folder could overwrite it; name "
                    "another folder"
                )
        for part in (p.name, *(q.name for q in p.parents)):
            if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX_BYTES:
                raise GuardError(
                    f"{name}: the name {part[:40]}… is {len(part.encode())} bytes long, over the "
                    f"file system's limit of {NAME_MAX_BYTES}; choose a shorter name"
                )
        if p.exists() and not o.folder and p.is_dir():
            raise GuardError(
                f"{name} is a folder; name a file in it, e.g. {p / ('results' + _suffix(o))}"
            )
        if p.exists() and not o.folder and not p.is_dir() and not p.is_file():
            # /dev/null, a pipe, a socket: moving a finished file over it would replace it
            raise GuardError(f"{name} is not a regular file (a device or pipe?); name a file")
        if o.suffix and not (o.folder or o.store) and p.suffix.lower() != o.suffix:
            wanted = p.with_suffix(o.suffix) if p.suffix else p.with_name(p.name + o.suffix)
            raise GuardError(
                f"{name}: the output is an Excel workbook and must end in {o.suffix} (it "
                f"would not open as {p.suffix or 'a file without an extension'}); "
                f"name it e.g. {wanted}"
            )
        if p.exists() and o.folder and not p.is_dir():
            raise GuardError(f"{name} is a file, not a folder; name a folder (or a new name)")
        if o.store and p.is_file() and p.stat().st_size > 0:
            with open(p, "rb") as fh:
                head = fh.read(len(SQLITE_MAGIC))
            if head != SQLITE_MAGIC:
                raise GuardError(
                    f"{name} exists and is not a store (not a SQLite file); name a new "
                    ".sqlite file or the store of an earlier run"
                )
        for q in _resolved(p).parents:
            if q.exists():
                if not q.is_dir():
                    raise GuardError(
                        f"{name}: {q} is a file, so nothing can be written under it; "
                        "choose another folder"
                    )
                break
        _check_writable(name, p)
    seen: dict[Path, str] = {}
    for o in outputs:
        key = _resolved(o.path)
        if key in seen:
            raise GuardError(
                f"{o.option} {o.path} and {seen[key]} are the same file: one would overwrite "
                "the other; give them different names"
            )
        seen[key] = f"{o.option} {o.path}"


def _suffix(o: Output) -> str:
    return ".sqlite" if o.store else ".xlsx"


def _writable(folder: Path) -> bool:
    """Whether this process may create files in ``folder`` (False on a read-only file system)."""
    return os.access(folder, os.W_OK | os.X_OK)


def _check_writable(name: str, p: Path) -> None:
    folder = _existing_ancestor(p)
    if not _writable(folder):
        raise GuardError(
            f"{name}: cannot write in {folder} (permission denied or a read-only disk); "
            "choose a folder you can write to",
            EXIT_ENVIRONMENT,
        )
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < MIN_FREE_BYTES:
        raise GuardError(
            f"{name}: the disk holding {folder} has only {free / 2**20:.1f} MiB free; free some "
            "space or choose a folder on another disk",
            EXIT_ENVIRONMENT,
        )


def output_file_names(stem: str, labels: Sequence[str], suffix: str = ".xlsx") -> dict[str, str]:
    """A file name per run label: safe, short enough, and never shared by two runs.

    Characters other than letters, digits, ``-``, ``_`` and ``.`` become ``_``. When that makes two
    labels collide (``a/b`` and ``a_b``; compared ignoring case, as macOS and Windows disks do), or
    the name is over the file system's limit (139 Arabic letters are 278 bytes), a short hash of the
    label is appended, so no two runs of one command ever share a file.
    """
    import hashlib

    def tag(label: str) -> str:
        return hashlib.sha256(label.encode("utf-8", "surrogateescape")).hexdigest()[:8]

    limit = NAME_MAX_BYTES - len(suffix) - 40  # room for the hash and atomic_write's temp name
    names = {}
    for label in labels:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in label).strip(".")
        name = f"{stem}__{safe or '_'}"
        if len(name.encode()) > limit:
            name = name.encode()[:limit].decode("utf-8", "ignore") + f"-{tag(label)}"
        names[label] = name
    count: dict[str, int] = {}
    for n in names.values():
        count[n.lower()] = count.get(n.lower(), 0) + 1
    return {
        label: (f"{n}-{tag(label)}" if count[n.lower()] > 1 else n) + suffix
        for label, n in names.items()
    }


# ------------------------------------------------------------------------------------------------
# Solver options: one rule for the command line and the Settings sheet
# ------------------------------------------------------------------------------------------------
def check_solver_options(
    time_limit: float | None = None, mip_gap: float | None = None, threads: int | None = None
) -> None:
    """Check ``--time-limit``, ``--mip-gap`` and ``--threads`` by the Settings sheet's own rule.

    The command line used to pass ``-1`` and ``nan`` on to HiGHS (which ignored them) and ``inf`` on
    to the Run sheet (which crashed after the solve); the Settings sheet refused them. Now both
    refuse the same values with the same words.

    Raises
    ------
    GuardError
        exit 2, naming the option, what is wrong and what is expected.
    """
    from optimizer.data_io import _Bad, convert
    from optimizer.schema import SETTINGS_BY_KEY

    for option, key, value in (
        ("--time-limit", "time_limit_s", time_limit),
        ("--mip-gap", "mip_gap", mip_gap),
        ("--threads", "threads", threads),
    ):
        if value is None:
            continue
        setting = SETTINGS_BY_KEY[key]
        if isinstance(value, float) and math.isinf(value) and key == "time_limit_s":
            raise GuardError(
                f"{option} {value}: not a finite number — a number of seconds ≥ 0; leave the "
                "option out for no limit"
            )
        try:
            convert(value, setting)
        except _Bad as b:
            raise GuardError(f"{option} {value}: {b.message} — {b.expected}") from None


def check_setting_option(option: str, key: str, value: float | None) -> None:
    """Check a command-line option that overrides Settings ``key`` by that setting's own rule
    (type, finite, range), e.g. ``--slack`` for ``mga_slack``.

    Raises
    ------
    GuardError
        exit 2, naming the option, what is wrong and what is expected.
    """
    from optimizer.data_io import _Bad, convert
    from optimizer.schema import SETTINGS_BY_KEY

    if value is None:
        return
    try:
        convert(value, SETTINGS_BY_KEY[key])
    except _Bad as b:
        raise GuardError(f"{option} {value}: {b.message} — {b.expected}") from None


# ------------------------------------------------------------------------------------------------
# Sizes that multiply
# ------------------------------------------------------------------------------------------------
def check_count(what: str, n: int, limit: int, instead: str) -> None:
    """Refuse ``n`` items of a kind that multiplies work beyond ``limit``, saying what to do instead.

    Raises
    ------
    GuardError
        exit 2: ``"{what}: n is more than limit — instead"``.
    """
    if n > limit:
        raise GuardError(f"{what}: {n:,} is more than the limit of {limit:,} — {instead}")


def check_stochastic_size(raw: object, bet_mode: str | None) -> None:
    """Refuse ``--bet-mode stochastic`` over more bets than the stochastic plan allows, before any
    worker builds 2^|B| copies of the model (the Settings sheet's own bet_mode is checked by
    ``parse``).

    Raises
    ------
    GuardError
        exit 2, with the number of outcomes and what to do instead.
    """
    from optimizer.data_io import MAX_TREE_COPIES, stochastic_limit_problem

    if bet_mode != "stochastic":
        return
    bets = getattr(raw, "tables", {}).get("Bets")
    n = len(bets.rows) if bets is not None else 0
    outs = getattr(raw, "tables", {}).get("Outcomes")
    futures = max(1, len(outs.rows)) if outs is not None else 1
    if futures * 2**n > MAX_TREE_COPIES:
        from optimizer.stochastic import variables_per_copy

        p = stochastic_limit_problem(n, "", futures, variables_per_copy(raw))
        raise GuardError(f"--bet-mode stochastic: {p.message} — {p.expected}")


# ------------------------------------------------------------------------------------------------
# The environment
# ------------------------------------------------------------------------------------------------
_OS_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space (or choose another folder) and run again",
    errno.EDQUOT: "the disk quota is exceeded: free some space and run again",
    errno.EACCES: "permission denied: check the file's and its folder's permissions, or choose "
    "another folder",
    errno.EPERM: "operation not permitted: check the permissions, or choose another folder",
    errno.EROFS: "the file system is read-only: choose a folder on a writable disk",
    errno.ENAMETOOLONG: "a file name is too long: choose a shorter name",
    errno.ENOENT: "a file or folder does not exist (was it moved or deleted during the run?)",
    errno.EISDIR: "a folder stands where a file belongs: choose a file name",
    errno.ENOTDIR: "a file stands where a folder belongs: choose another folder",
    errno.EMFILE: "too many open files: raise the limit (ulimit -n) or use fewer workers",
}


def describe_os_error(exc: OSError) -> str:
    """One sentence for an error of the environment: what failed, on which file, what to do."""
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    advice = _OS_ADVICE.get(exc.errno or -1, "check the disk and the file's permissions")
    return f"{exc.strerror or exc}{where}: {advice}. Nothing was overwritten."


def scheduler_address_problem(address: str) -> str | None:
    """What is wrong with the address of a Dask scheduler as ``--scheduler`` takes it, or None.

    Dask's own parser reads it (``tcp://HOST:PORT``; ``HOST:PORT`` means tcp; also tls, ws, wss,
    ucx, inproc); an address it cannot read, a scheme Dask does not know, no host or a port outside
    1–65535 is a problem, said with what is expected.
    """
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, loc = parse_address(str(address).strip(), strict=False)
        if scheme not in registry.backends:
            raise ValueError(f"{scheme!r} is not a Dask protocol ({', '.join(registry.backends)})")
        if scheme != "inproc":
            port_text = loc.rsplit(":", 1)[-1] if ":" in loc else ""
            if port_text and not port_text.isdigit():
                raise ValueError(f"the port {port_text!r} is not a number")
            host, port = parse_host_port(loc)
            if not host:
                raise ValueError("no host")
            if not 1 <= int(port) <= 65535:
                raise ValueError(f"port {port} is not in 1–65535")
    except (ValueError, TypeError) as exc:
        return (
            f"{exc} — expected tcp://HOST:PORT, the address `dask scheduler` prints "
            "(e.g. tcp://10.0.0.5:8786)"
        )
    return None


def check_scheduler_address(address: str) -> str:
    """``address`` without surrounding blanks when :func:`scheduler_address_problem` finds nothing
    wrong; else :class:`GuardError` (exit 2) before any work starts."""
    problem = scheduler_address_problem(address)
    if problem:
        raise GuardError(f"--scheduler {address}: {problem}")
    return str(address).strip()


def scheduler_unreachable(address: str, exc: BaseException) -> GuardError:
    """The error to raise when no Dask scheduler answered at ``address`` (exit 3, the environment):
    Dask's own reason, and how to start one or go without."""
    return GuardError(
        f"no Dask scheduler answered at {address} ({exc}): start one there with `dask scheduler` "
        f"and its workers with `dask worker {address}`, or leave out --scheduler to solve on "
        "this machine",
        EXIT_ENVIRONMENT,
    )


# ------------------------------------------------------------------------------------------------
# YAML specs
# ------------------------------------------------------------------------------------------------
MAX_YAML_BYTES = 1024 * 1024
"""Largest YAML spec read: a list of parameter ranges is a few kilobytes."""


def load_yaml(path: Path) -> object:
    """Read a small YAML document safely: no tags (``safe_load``), no anchors or aliases, at most
    :data:`MAX_YAML_BYTES`.

    Aliases are how a "billion laughs" YAML file (nine lines of ``&a [*b, *b, …]``) expands to 10^9
    nodes when anything walks it; a parameter list never needs one.

    Raises
    ------
    ValueError
        the file is too large or uses an alias (with its line).
    yaml.YAMLError
        not YAML.
    """
    import yaml

    size = Path(path).stat().st_size
    if size > MAX_YAML_BYTES:
        raise ValueError(
            f"{size:,} bytes, more than the {MAX_YAML_BYTES:,} a spec may have; a spec lists "
            "parameter ranges"
        )

    class _NoAliases(yaml.SafeLoader):
        def compose_node(self, parent: object, index: object) -> object:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise ValueError(
                    f"line {mark.line + 1}: aliases (*name) are not allowed in a spec; write "
                    "each value out"
                )
            return super().compose_node(parent, index)

    text = Path(path).read_text(encoding="utf-8")
    return yaml.load(text, Loader=_NoAliases)  # noqa: S506 - a SafeLoader subclass
