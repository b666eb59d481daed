"""Atomic writes: file modes as open() gives them, and a failed write (disk full) as one typed error.

Oracles: ``open(path, "w")`` itself for the modes (the same umask, the same existing file); the kernel's own
refusal to grow a file past ``RLIMIT_FSIZE`` (EFBIG) for a real failed write, in a child process.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from ltr.atomic import atomic_write, current_umask, write_json
from ltr.errors import LTRError, WriteError


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    old = os.umask(0o022)
    os.umask(old)

    def set_(mask):
        os.umask(mask)
    yield set_
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002, 0o077, 0o000])
def test_new_files_get_the_mode_open_would_give(tmp_path, umask, mask):
    """Oracle: open() under the same umask (atomic_write used to keep mkstemp's 0600 whatever the umask)."""
    umask(mask)
    assert current_umask() == mask
    with open(tmp_path / "plain.txt", "w") as handle:
        handle.write("x")
    with atomic_write(tmp_path / "atomic.txt") as handle:
        handle.write("x")
    write_json(tmp_path / "a.json", {"a": 1})
    assert _mode(tmp_path / "atomic.txt") == _mode(tmp_path / "plain.txt") == 0o666 & ~mask
    assert _mode(tmp_path / "a.json") == 0o666 & ~mask


def test_replacing_a_file_keeps_its_mode(tmp_path, umask):
    """Oracle: open(path, 'w') on an existing file keeps its mode (it truncates, it does not recreate)."""
    umask(0o022)
    for mode in (0o600, 0o640, 0o664):
        target, plain = tmp_path / f"t{mode:o}", tmp_path / f"p{mode:o}"
        for p in (target, plain):
            p.write_text("old")
            os.chmod(p, mode)
        with open(plain, "w") as handle:
            handle.write("new")
        with atomic_write(target) as handle:
            handle.write("new")
        assert _mode(target) == _mode(plain) == mode and target.read_text() == "new"


_CHILD = textwrap.dedent("""
    import resource, signal, sys
    from pathlib import Path
    from ltr.atomic import atomic_write
    from ltr.errors import WriteError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # get EFBIG instead of being killed
    target = Path(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    try:
        with atomic_write(target) as handle:
            for _ in range(100):
                handle.write("x" * 1000 + "\\n")
    except WriteError as err:
        print("WriteError", err.errno, err.filename)
        print(err)
""")


def test_a_write_the_kernel_refuses_is_one_typed_error_and_leaves_no_half_file(tmp_path):
    """Oracle: the kernel (RLIMIT_FSIZE makes writes past 4 KiB fail with EFBIG, as a full disk fails with
    ENOSPC): the error names the file, the old file is unchanged and no temporary file is left."""
    target = tmp_path / "metrics.csv"
    target.write_text("old results\n")
    out = subprocess.run([sys.executable, "-c", _CHILD, str(target)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr
    first, message = out.stdout.splitlines()[:2]
    assert first == f"WriteError {errno.EFBIG} {target}"
    assert message.startswith(f"cannot write '{target}': File too large (EFBIG); nothing was written")
    assert "Traceback" not in out.stderr
    assert target.read_text() == "old results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv"]


@pytest.mark.parametrize("where", ["write", "fsync", "replace"])
def test_disk_full_at_each_step(tmp_path, monkeypatch, where):
    """Oracle: ENOSPC injected at each step of the write (the child-process test shows the real thing):
    one WriteError naming the file; the old file and the folder as they were."""
    target = tmp_path / "run.trec"
    target.write_text("old\n")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if where == "fsync":
        monkeypatch.setattr(os, "fsync", full)
    elif where == "replace":
        monkeypatch.setattr(os, "replace", full)
    with pytest.raises(WriteError, match=rf"cannot write '{target}': No space left on device \(ENOSPC\); "
                                         r"nothing was written .*free some disk space") as info:
        with atomic_write(target) as handle:
            handle.write("new\n")
            if where == "write":
                full()
    assert isinstance(info.value, LTRError) and isinstance(info.value, OSError)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert target.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["run.trec"]


def test_other_errors_in_the_callers_block_pass_through(tmp_path):
    """Oracle: the caller's own exceptions are not the writer's (an OSError reading some input, a bug)."""
    with pytest.raises(FileNotFoundError):
        with atomic_write(tmp_path / "a") as handle:
            handle.write("x")
            open(tmp_path / "missing")
    with pytest.raises(KeyError):
        with atomic_write(tmp_path / "a"):
            raise KeyError("x")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder(tmp_path):
    """Oracle: a folder where a file stands cannot be created: one WriteError naming the target."""
    (tmp_path / "f").write_text("a file, not a folder")
    with pytest.raises(WriteError, match=r"cannot write '.*f/x\.json'"):
        write_json(tmp_path / "f" / "x.json", {})
