"""Settings → backup and restore: the last good backup, a backup now, and a
restore from a file (app/services/backup.py does the work, on the task runner)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from shiboken6 import isValid

from app.i18n import tr

from .context import AppContext
from .dialogs import Dialogs, show_error


class BackupDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(tr("Backup and restore"))
        self.setMinimumWidth(560)
        self.status = QLabel(wordWrap=True)
        self.status.setObjectName("backupStatus")
        self.backup_button = QPushButton(tr("Back up now"))
        self.backup_button.setObjectName("backupNow")
        self.backup_button.clicked.connect(self.back_up)
        self.restore_button = QPushButton(tr("Restore from a backup…"))
        self.restore_button.setObjectName("restoreBackup")
        self.restore_button.clicked.connect(self.restore)
        ctx.offer(self.restore_button, "configure")
        buttons = QHBoxLayout()
        buttons.addWidget(self.backup_button)
        buttons.addWidget(self.restore_button)
        buttons.addStretch(1)
        hint = QLabel(tr("Every backup is checked after it is written (integrity check and audit chain). "
                         "Folders, rotation and the automatic interval are on the settings page."), wordWrap=True)
        hint.setStyleSheet("color: #5b665f;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(hint)
        layout.addLayout(buttons)
        self.load()

    def load(self) -> None:
        from app.services import backup

        with self.ctx.read() as session:
            good = backup.last_good(session)
            folder = backup.folder_of(session)
        when = good.strftime("%Y-%m-%d %H:%M") if good else tr("never")
        self.status.setText(tr("Last good backup: {when}\nBackup folder: {folder}", when=when, folder=folder))

    def back_up(self) -> None:
        from app.services import backup

        def done(outcome) -> None:
            if not isValid(self):
                return
            self.backup_button.setEnabled(True)
            self.load()
            if outcome.ok:
                Dialogs.info(self, tr("Backup and restore"), tr("Backup written and verified: {path}", path=outcome.path))
            else:
                Dialogs.warn(self, tr("Backup and restore"), tr("The backup failed: {why}", why=outcome.message))

        def failed(error: BaseException) -> None:
            if isValid(self):
                self.backup_button.setEnabled(True)
                show_error(self, error)

        self.backup_button.setEnabled(False)
        engine, sessions = self.ctx.engine, self.ctx.sessions
        self.ctx.runner.run(lambda _progress: backup.run(engine, sessions), done, failed)

    def restore(self) -> None:
        from app.services import backup

        path = Dialogs.open_file(self, tr("Restore from a backup…"), tr("Backups (*.db *.dump);;All files (*)"))
        if not path or not Dialogs.confirm(self, tr("Backup and restore"), tr(
                "Replace the database with the backup {path}? The current database is kept aside first. "
                "Other PCs and windows using this database must be closed.", path=path)):
            return
        engine, sessions = self.ctx.engine, self.ctx.sessions

        def work(_progress):
            # Who acts is checked first; the window's connections are let go
            # only once the copy has passed its verification.
            return backup.restore(engine.url, path, sessions, release=engine.dispose)

        def done(result) -> None:
            aside = str(result.kept_aside) if result.kept_aside else tr("(no previous database)")
            Dialogs.info(self.parent() or self, tr("Backup and restore"), tr(
                "The database was restored from {path}. The previous database was kept as {aside}. "
                "The application closes now; start it again.", path=result.source, aside=aside))
            window = self.parent()
            if isValid(self):
                self.accept()
            if window is not None:
                window.close()

        self.restore_button.setEnabled(False)
        self.ctx.runner.run(work, done, lambda error: isValid(self) and (self.restore_button.setEnabled(True), show_error(self, error)))
