"""Render the dialogs the window shows when it cannot start normally
(issue 14) into docs/screenshots/30-*.png, through the application's own
start-up code (``app.ui.app``): each database problem made real in a
scratch folder, and the missing Chinese font twice — as a machine without
one shows it (fontconfig limited to the DejaVu fonts) and with the font, to
read the Chinese.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_error_screenshots.py
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "screenshots"
NO_CJK_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{cache}</cachedir></fontconfig>
"""


def grab_warnings(name: str):
    """Dialogs.warn as the window shows it, painted into OUT/name instead of
    waiting for a click."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    def warn(cls, parent, title, text):
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
        box.show()
        for _ in range(10):
            QApplication.processEvents()
        box.grab().save(str(OUT / name))
        print(f"{name}: {title}")
        box.close()

    return classmethod(warn)


def database_cases(folder: Path) -> list[tuple[str, str]]:
    from app.db import open_database

    corrupt = folder / "foodarchive.db"
    corrupt.write_bytes(b"\0not a database any more" * 400)
    sound, newer = folder / "sound.db", folder / "newer.db"
    for path in (sound, newer):
        engine, _ = open_database(f"sqlite:///{path}")
        engine.dispose()
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0009'")
    conn.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return [
        ("30-database-missing.png", str(Path.home() / "文档" / "档案" / "foodarchive.db")),
        ("30-database-corrupt.png", str(corrupt)),
        # SQLite's read-only mode is what a file without write access gives (root ignores permissions)
        ("30-database-read-only.png", f"sqlite:///{sound.as_uri()}?mode=ro&uri=true"),
        ("30-database-newer.png", str(newer)),
        ("30-database-server-unreachable.png", f"postgresql+psycopg://postgres@127.0.0.1:{port}/foodarchive"),
    ]


def render_databases() -> None:
    from app.ui import app as ui_app
    from app.ui.dialogs import Dialogs

    ui_app.make_application([sys.argv[0]])
    with tempfile.TemporaryDirectory() as scratch:
        for name, db in database_cases(Path(scratch)):
            Dialogs.warn = grab_warnings(name)
            assert ui_app.open_or_explain(db, []) is None


def render_font(name: str, pretend: bool) -> None:
    from app.ui import app as ui_app
    from app.ui.dialogs import Dialogs

    ui_app.make_application([sys.argv[0]])
    if pretend:  # with the font installed, to read the Chinese of the same dialog
        ui_app.cjk_font_families = lambda: []
    Dialogs.warn = grab_warnings(name)
    assert not ui_app.check_fonts()


def main() -> int:
    OUT.mkdir(exist_ok=True)
    if len(sys.argv) > 1 and sys.argv[1] == "--font":
        render_font(sys.argv[2], pretend=sys.argv[3] == "pretend")
        return 0
    with tempfile.TemporaryDirectory() as home:
        os.environ.update(HOME=home, XDG_DATA_HOME=f"{home}/data", XDG_CONFIG_HOME=f"{home}/config",
                          XDG_STATE_HOME=f"{home}/state", XDG_CACHE_HOME=f"{home}/cache")
        render_databases()
        conf = Path(home) / "fonts.conf"
        conf.write_text(NO_CJK_FONTS.format(cache=f"{home}/fc-cache"), encoding="utf-8")
        me = [sys.executable, __file__, "--font"]
        # a machine without a Chinese font, as its user sees the dialog: Qt finds none by itself
        subprocess.run([*me, "30-no-chinese-font-as-seen.png", "real"], check=True,
                       env=dict(os.environ, FONTCONFIG_FILE=str(conf)))
        subprocess.run([*me, "30-no-chinese-font.png", "pretend"], check=True, env=dict(os.environ))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
