"""Issue 19 §1 in the window: back up now, restore from a file, refuse a bad copy."""

from __future__ import annotations

import hashlib

from PySide6.QtCore import Qt

from app.services import backup, settings
from app.ui.backup_dialog import BackupDialog
from app.ui.dialogs import Dialogs


def test_backup_now_then_a_corrupt_copy_is_refused_and_a_good_one_restored(qtbot, empty_ctx, empty_db, tmp_path, monkeypatch):
    ctx = empty_ctx
    ctx.write(lambda s: settings.put(s, "backup_folder", str(tmp_path / "bk")))(None)
    said: list[tuple[str, str]] = []
    monkeypatch.setattr(Dialogs, "info", classmethod(lambda cls, parent, title, text: said.append(("info", text))))
    monkeypatch.setattr(Dialogs, "warn", classmethod(lambda cls, parent, title, text: said.append(("warn", text))))
    dialog = BackupDialog(ctx)
    qtbot.addWidget(dialog)
    assert "最近一次经过校验的备份：从未" in dialog.status.text()

    qtbot.mouseClick(dialog.backup_button, Qt.MouseButton.LeftButton)
    ctx.runner.settle()
    assert said[-1][0] == "info" and "备份已写入并通过校验" in said[-1][1]
    copy = next((tmp_path / "bk").glob("foodarchive-*.db"))
    assert "从未" not in dialog.status.text()

    broken = tmp_path / "broken.db"
    data = bytearray(copy.read_bytes())
    data[4096 * 2: 4096 * 2 + 300] = b"\0" * 300
    broken.write_bytes(bytes(data))
    before = hashlib.sha256(empty_db.read_bytes()).hexdigest()
    monkeypatch.setattr(Dialogs, "open_file", classmethod(lambda cls, *a: str(broken)))
    monkeypatch.setattr(Dialogs, "confirm", classmethod(lambda cls, *a: True))
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    ctx.runner.settle()
    assert said[-1][0] == "warn" and "未通过校验，没有恢复，当前数据库没有任何改动" in said[-1][1]
    assert hashlib.sha256(empty_db.read_bytes()).hexdigest() == before
    assert dialog.restore_button.isEnabled()

    monkeypatch.setattr(Dialogs, "open_file", classmethod(lambda cls, *a: str(copy)))
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    ctx.runner.settle()
    assert said[-1][0] == "info" and "恢复前的数据库另存为" in said[-1][1]
    assert list(tmp_path.glob("empty-恢复前-*.db"))
    assert backup.verify_file(empty_db) == []
