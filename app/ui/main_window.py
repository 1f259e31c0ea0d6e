"""The main window: navigation by the way the factory works, one page at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from app import __version__
from app import i18n
from app.i18n import lazy, tr
from app.ledgers import registry

from .context import AppContext
from .dialogs import Dialogs

log = logging.getLogger("ui")

BACKUP_TICK_MS = 10 * 60_000  # how often the window asks whether a backup is due
FIRST_BACKUP_TICK_MS = 60_000  # a PC started only briefly each day still backs up

# Navigation groups in the order the factory works (issue 3 §2).
GROUPS = (
    ("基础数据", lazy("Master data")),
    ("进货查验", lazy("Incoming inspection")),
    ("生产", lazy("Production")),
    ("检验", lazy("Inspection")),
    ("仓储", lazy("Storage")),
    ("出厂与销售", lazy("Release and sales")),
    ("召回与销毁", lazy("Recall and destruction")),
    ("安全管理", lazy("Safety management")),
    ("档案", lazy("Archives")),
    ("追溯", lazy("Traceability")),
    ("上传与统计", lazy("Upload and statistics")),
)


# Tables that only link two records: reached from their parent record (the
# supplier page, the inspection, the archive browser, a record's attachments),
# not listed in the navigation; their pages still open by key.
LINK_TABLES = frozenset({"supplier_document_material", "inspection_item", "catalogue_entry", "attachment",
                         "supplier_status_change"})
HOME = "home"


@dataclass(frozen=True)
class Page:
    key: str
    group: str
    title: str
    build: Callable[[AppContext], QWidget]
    # The action a user's role needs to see the page at all.
    needs: str | None = None


def _ledger_page(key: str) -> Callable[[AppContext], QWidget]:
    def build(ctx: AppContext) -> QWidget:
        from .ledger_page import LedgerPage

        return LedgerPage(ctx, registry()[key])

    return build


def _special(module: str, cls: str) -> Callable[[AppContext], QWidget]:
    def build(ctx: AppContext) -> QWidget:
        import importlib

        return getattr(importlib.import_module(f"app.ui.{module}"), cls)(ctx)

    return build


def pages() -> list[Page]:
    """Every page of the navigation: the workflow screens first in their group,
    then one table per ledger."""
    found = [
        Page(HOME, "", tr("Home"), _special("home_page", "HomePage")),
        Page("batch_workbench", "生产", tr("Batch workbench"), _special("batch_screen", "BatchWorkbench")),
        Page("release_desk", "出厂与销售", tr("Release desk"), _special("release_screen", "ReleaseDesk")),
        Page("archive_browser", "档案", tr("Archive browser"), _special("archive_browser", "ArchiveBrowser")),
        Page("trace", "追溯", tr("Trace"), _special("trace_view", "TraceView")),
        Page("recall_desk", "召回与销毁", tr("Recall desk"), _special("recall_screen", "RecallDesk")),
        Page("upload_status", "上传与统计", tr("Upload status"), _special("upload_page", "UploadPage")),
        Page("statistics", "上传与统计", tr("Statistics"), _special("statistics_page", "StatisticsPage")),
        Page("users", "基础数据", tr("Users and roles"), _special("users_page", "UsersPage"), needs="configure"),
        Page("settings", "基础数据", tr("Settings"), _special("settings_page", "SettingsPage"), needs="configure"),
    ]
    # Ledgers whose page is more than a table: the supplier list admits, suspends and resumes.
    dedicated = {"supplier": _special("supplier_page", "SupplierPage")}
    for ledger in registry().values():
        found.append(Page(ledger.key, ledger.group, ledger.title, dedicated.get(ledger.key) or _ledger_page(ledger.key)))
    return found


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.setObjectName("MainWindow")
        self.setWindowTitle(tr("Food Quality Technical Archives") + f" {__version__}")
        self._pages = {page.key: page for page in pages() if page.needs is None or ctx.may(page.needs)}
        self._built: dict[str, QWidget] = {}

        self._stale: set[str] = set()  # built pages to re-read when next shown
        self.nav = QTreeWidget()
        self.nav.setObjectName("navigation")
        self.nav.setHeaderHidden(True)
        self.nav.setColumnCount(2)  # the title; how many to-dos and alerts concern it
        self.nav.header().setStretchLastSection(False)
        self.nav.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.nav.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.nav.setMinimumWidth(210)
        self.stack = QStackedWidget()
        self._fill_navigation()
        self.nav.currentItemChanged.connect(self._on_navigate)

        self.splitter = QSplitter()
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.nav)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.setCentralWidget(self.splitter)
        self.where = QLabel(self._where())
        self.where.setObjectName("where")
        self.statusBar().addWidget(self.where, 1)
        self._build_menu()
        self._build_toolbar()
        ctx.runner.data_changed.connect(self.data_changed)
        self._restore()
        self.go_home()

    def _where(self) -> str:
        """The status bar: who, for which enterprise, in which database file (never its URL)."""
        from pathlib import Path

        from sqlalchemy import select

        from app.models import Enterprise

        with self.ctx.read() as session:
            enterprise = session.scalar(select(Enterprise.name).limit(1))
        url = self.ctx.engine.url
        database = Path(url.database).name if url.get_backend_name() == "sqlite" and url.database else url.database
        parts = [tr("User: {name}", name=self.ctx.actor or tr("not signed in")),
                 tr("Enterprise: {name}", name=enterprise or tr("not entered yet")),
                 tr("Database: {name}", name=database or "")]
        return "    ".join(parts)

    def _build_toolbar(self) -> None:
        bar = self.addToolBar(tr("Main"))
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        home = bar.addAction(tr("Home"), self.go_home)
        home.setObjectName("homeAction")
        home.setShortcut(QKeySequence("Alt+Home"))
        refresh = bar.addAction(tr("Refresh"), self.refresh_current)
        refresh.setObjectName("refreshAction")
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)  # F5
        refresh.setToolTip(tr("Read the page again from the database (F5)"))

    def go_home(self) -> QWidget:
        return self.navigate(HOME)

    # ------------------------------------------------------------ refreshing

    @staticmethod
    def _refresh(widget: QWidget) -> None:
        """A page re-reads what it shows: ``refresh`` or ``reload``, whichever it has."""
        for name in ("refresh", "reload"):
            method = getattr(widget, name, None)
            if callable(method):
                method()
                return

    def refresh_current(self) -> None:
        current = self.stack.currentWidget()
        if current is not None:
            self._refresh(current)

    def data_changed(self) -> None:
        """After any write: the page in view re-reads now, the others when next shown;
        the home page always (its lines give the navigation counts)."""
        current = self.stack.currentWidget()
        for key, widget in self._built.items():
            if widget is current or key == HOME:
                self._refresh(widget)
            else:
                self._stale.add(key)

    def show_counts(self, counts: dict[str, int]) -> None:
        """The to-dos and alerts that concern each page, beside its title; a group shows its sum."""
        for top in range(self.nav.topLevelItemCount()):
            group = self.nav.topLevelItem(top)
            total = 0
            for index in range(group.childCount()):
                item = group.child(index)
                count = counts.get(item.data(0, Qt.ItemDataRole.UserRole), 0)
                total += count
                item.setText(1, str(count) if count else "")
            group.setText(1, str(total) if total else "")

    def _build_menu(self) -> None:
        settings_menu = self.menuBar().addMenu(tr("Settings"))
        language_menu = settings_menu.addMenu(tr("Language"))
        group = QActionGroup(self)
        current = str(QSettings().value("ui/language", i18n.DEFAULT))
        for code, name in i18n.LANGUAGES.items():
            action = language_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(code == current)
            action.setData(code)
            group.addAction(action)
        group.triggered.connect(self._choose_language)
        if self.ctx.may("configure"):
            settings_menu.addAction(tr("Platform upload…"), self._platform_settings)
            settings_menu.addAction(tr("Trace codes and batch pages…"), self._codes_settings)
        if self.ctx.acting is not None:
            settings_menu.addAction(tr("Backup and restore…"), self._backup_dialog).setObjectName("backupAction")
        if self.ctx.user_id is not None:
            settings_menu.addAction(tr("Change my password…"), self._change_password)
        if self.ctx.may("export"):
            self._excel_menu()
        help_menu = self.menuBar().addMenu(tr("Help"))
        help_menu.setObjectName("helpMenu")
        help_menu.addAction(tr("Verify data and audit log…"), self.show_verify).setObjectName("verifyAction")
        help_menu.addAction(tr("About"), self.show_about)
        # R6: upload when due; the schedule itself (next_due) lives in the database.
        self._upload_timer = QTimer(self, interval=60_000)
        self._upload_timer.timeout.connect(self._upload_tick)
        self._upload_timer.start()
        # R5.3: back up when due; the last good backup's time lives in the database.
        self._backup_timer = QTimer(self, interval=BACKUP_TICK_MS)
        self._backup_timer.timeout.connect(self._backup_tick)
        self._backup_timer.start()
        QTimer.singleShot(FIRST_BACKUP_TICK_MS, self._backup_tick)

    def _backup_tick(self) -> None:
        from app.services import backup

        if self.ctx.acting is None or self.ctx.runner.busy:
            return  # nobody to record it under, or a job (perhaps a restore) is running
        engine, sessions = self.ctx.engine, self.ctx.sessions

        def done(outcome) -> None:
            if outcome is not None and not outcome.ok:
                self.statusBar().showMessage(tr("The backup failed: {why}", why=outcome.message))

        self.ctx.runner.run(lambda _progress: backup.run_if_due(engine, sessions), done,
                            lambda error: log.warning("scheduled backup failed: %s", error))

    def _backup_dialog(self) -> None:
        from .backup_dialog import BackupDialog

        self._backup = BackupDialog(self.ctx, self)
        self._backup.open()

    def _change_password(self) -> None:
        from .login import ChangePasswordDialog

        if ChangePasswordDialog(self.ctx, self).exec():
            Dialogs.info(self, tr("Change my password"), tr("Your password has been changed."))

    def show_verify(self) -> None:
        from .verify_dialog import VerifyDialog

        self._verify = VerifyDialog(self.ctx, self)
        self._verify.open()

    def show_about(self) -> None:
        from .about import AboutDialog

        self._about = AboutDialog(self.ctx, self)
        self._about.open()

    def _codes_settings(self) -> None:
        from .codes_settings import CodesSettingsDialog

        self._codes_dialog = CodesSettingsDialog(self.ctx, self)
        self._codes_dialog.open()

    def _platform_settings(self) -> None:
        from .platform_settings import PlatformSettingsDialog

        self._platform_dialog = PlatformSettingsDialog(self.ctx, self)
        self._platform_dialog.open()

    def _upload_tick(self) -> None:
        from app.platform import upload

        def failed(error: BaseException) -> None:
            log.warning("scheduled upload failed: %s", error)

        self.ctx.runner.run(lambda _progress: upload.run_if_due(self.ctx.sessions), lambda _report: None, failed)

    def _excel_menu(self) -> None:
        """Issue 6: the workbook for an inspection, written in the background."""
        from .excel_actions import TaskProgress, export_inspection

        self.excel_progress = TaskProgress(self)
        self.statusBar().addPermanentWidget(self.excel_progress)
        excel_menu = self.menuBar().addMenu(tr("Excel"))
        action = excel_menu.addAction(tr("Workbook for an inspection…"),
                                      lambda: export_inspection(self.ctx, self, self.excel_progress))
        action.setObjectName("inspectionWorkbook")

    def _choose_language(self, action) -> None:
        QSettings().setValue("ui/language", action.data())
        Dialogs.info(self, tr("Language"), tr("The language changes when the application is started again."))

    def _fill_navigation(self) -> None:
        by_group: dict[str, list[Page]] = {}
        for page in self._pages.values():
            if page.key not in LINK_TABLES:
                by_group.setdefault(page.group, []).append(page)
        for group, label in GROUPS:
            if group not in by_group:
                continue
            top = QTreeWidgetItem([str(label)])
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.nav.addTopLevelItem(top)
            for page in by_group[group]:
                item = QTreeWidgetItem([page.title])
                item.setData(0, Qt.ItemDataRole.UserRole, page.key)
                top.addChild(item)
        self.nav.expandToDepth(0)

    def _on_navigate(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        key = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        if key:
            self.show_page(key)

    def navigate(self, key: str) -> QWidget:
        """Select a page in the navigation, as a click would (a page the
        navigation does not list, the home page or a link table, selects nothing)."""
        chosen = None
        for top in range(self.nav.topLevelItemCount()):
            group = self.nav.topLevelItem(top)
            for index in range(group.childCount()):
                item = group.child(index)
                if item.data(0, Qt.ItemDataRole.UserRole) == key:
                    chosen = item
        self.nav.setCurrentItem(chosen)
        return self.show_page(key)

    def show_page(self, key: str) -> QWidget:
        widget = self._built.get(key)
        if widget is None:
            widget = self._pages[key].build(self.ctx)
            widget.setObjectName(f"page_{key}")
            if key == "trace":  # the trace view hands a traced number to the recall desk
                widget.recall_requested.connect(lambda number: self.navigate("recall_desk").start_from(number))
            self._built[key] = widget
            self.stack.addWidget(widget)
            if key == HOME:
                widget.open_page.connect(self.navigate)
                widget.loaded.connect(lambda: self.show_counts(widget.page_counts()))
        elif key in self._stale:
            self._refresh(widget)
        self._stale.discard(key)
        self.stack.setCurrentWidget(widget)
        return widget

    # ------------------------------------------------------------ geometry

    def _restore(self) -> None:
        settings = QSettings()
        geometry = settings.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        splitter = settings.value("main/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def closeEvent(self, event) -> None:
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        settings.setValue("main/splitter", self.splitter.saveState())
        if self.ctx.runner.busy:
            self.ctx.runner.wait(10000)
        super().closeEvent(event)
