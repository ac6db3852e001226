"""Progress on long work goes to stderr: a live bar on a terminal, plain lines otherwise; stdout stays
clean JSON lines."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

from tests.test_replay import IN_FORCE_A, IN_FORCE_B, feed


def _files(tmp_path: Path) -> list[str]:
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    a.write_bytes(feed("https://ledger.example", "Ledger", [IN_FORCE_A]))
    b.write_bytes(feed("https://wire.example", "Wire", [IN_FORCE_B]))
    return [str(a), str(b)]


def _replay(config_dir: Path, tmp_path: Path, stderr: int) -> subprocess.Popen[bytes]:
    db = f"sqlite:///{tmp_path / 'p.sqlite'}"
    cmd = [sys.executable, "-m", "monitor.cli", "replay", "--config-dir", str(config_dir), "--db", db]
    return subprocess.Popen([*cmd, *_files(tmp_path)], stdout=subprocess.PIPE, stderr=stderr)


def test_plain_progress_lines_when_not_a_terminal(config_dir: Path, tmp_path: Path) -> None:
    proc = _replay(config_dir, tmp_path, subprocess.PIPE)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    changes = [json.loads(line) for line in out.decode().splitlines()]  # every stdout line is JSON
    assert any(c["to"] == "fulfilled" for c in changes)
    assert "trade-monitor replay: 2/2 files (done)" in err.decode()


def test_a_live_bar_on_a_terminal(config_dir: Path, tmp_path: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real terminal's size
    seen: list[bytes] = []

    def drain() -> None:  # read while it runs: a pty drops what is unread when the writer goes
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            seen.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = _replay(config_dir, tmp_path, slave)
    os.close(slave)
    out, _ = proc.communicate(timeout=120)
    reader.join(10)
    os.close(master)
    text = b"".join(seen).decode(errors="replace")
    assert proc.returncode == 0
    assert [json.loads(line) for line in out.decode().splitlines()]
    assert "replay" in text and "2/2" in text and "files" in text and "|" in text  # tqdm's bar
    assert "trade-monitor replay: 2/2" not in text  # not the plain lines
