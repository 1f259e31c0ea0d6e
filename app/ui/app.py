"""Start order: logging, paths, QApplication, i18n, database upgrade, login
(the administrator first, in a database without users), main window."""

from __future__ import annotations

import logging
import sys

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QFontDatabase, QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QLabel, QProgressDialog, QVBoxLayout, QWidget

from app import i18n
from app import log as app_log
from app.i18n import tr
from app.paths import db_url_from

from .dialogs import Dialogs, show_error
from .tasks import TaskRunner

if TYPE_CHECKING:  # the database layer loads after the splash is painted (see run)
    from .context import AppContext

log = logging.getLogger("ui")
qt_log = logging.getLogger("qt")

CJK_SAMPLE = "食品质量技术档案"


def _route_qt_messages() -> None:
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }
    qInstallMessageHandler(lambda kind, _context, message: qt_log.log(levels.get(kind, logging.WARNING), message))


def _install_crash_dialog(window_getter) -> None:
    def hook(kind, error, traceback):
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, traceback)
            return
        show_error(window_getter(), error.with_traceback(traceback))

    sys.excepthook = hook


def cjk_font_families() -> list[str]:
    """Installed families that can show Chinese; empty means boxes."""
    return [
        family
        for family in QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
        if not family.startswith(".")
    ]


def app_icon() -> QIcon:
    from importlib import resources

    pixmap = QPixmap()
    pixmap.loadFromData((resources.files("app.resources") / "icons" / "foodarchive.png").read_bytes())
    return QIcon(pixmap)


def splash(app: QApplication) -> QWidget:
    """The first window, painted before the database layer and the models load (half
    a second of imports a user would otherwise wait for in front of nothing). A
    frameless window of our own, not a QSplashScreen: that one waits up to a
    second for the window system to say it is exposed."""
    screen = QWidget(None, Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
    layout = QVBoxLayout(screen)
    layout.setContentsMargins(40, 28, 40, 28)
    icon = QLabel()
    icon.setPixmap(app_icon().pixmap(128, 128))
    icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
    layout.addWidget(icon)
    for text in ("食品质量技术档案", tr("Starting…")):
        label = QLabel(text)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(label)
    screen.show()
    app.processEvents()
    return screen


def make_application(argv: list[str]) -> QApplication:
    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName("FoodArchive")
    app.setApplicationName("FoodArchive")
    app.setApplicationDisplayName("食品质量技术档案")
    app.setWindowIcon(app_icon())
    i18n.set_language(str(QSettings().value("ui/language", i18n.DEFAULT)))
    return app


def offer_demo(ctx: AppContext, parent) -> None:
    """An empty database offers to load the demo factory, in the background."""
    from app.services import demo

    with ctx.read() as session:
        if not demo.is_empty(session):
            return
    if not Dialogs.confirm(parent, tr("Empty database"), tr("The database is empty. Load the demo factory to look around?")):
        return
    dialog = QProgressDialog(tr("Loading the demo factory…"), "", 0, 0, parent)
    dialog.setCancelButton(None)
    dialog.setMinimumDuration(0)
    dialog.show()

    def finished(_result=None):
        dialog.close()

    def failed(error):
        dialog.close()
        show_error(parent, error)

    # The demo factory is loaded by the system account, not by the user who logged in.
    ctx.runner.run(ctx.write(lambda session: demo.load(session), as_system=demo.ACTOR), finished, failed)


def smoke_check(app: QApplication, window, timeout_ms: int = 60000) -> int:
    """``gui --smoke`` (hidden; for the frozen build's check): build every
    page, wait until the main window has painted, quit with 0 — or 1 if it
    never paints."""
    from .main_window import pages

    for page in pages():
        window.navigate(page.key)  # imports each screen's module, as a click would
    window.navigate(pages()[0].key)

    class FirstPaint(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                QTimer.singleShot(0, lambda: app.exit(0))
            return False

    painted = FirstPaint(window)
    window.installEventFilter(painted)
    QTimer.singleShot(timeout_ms, lambda: app.exit(1))
    window.update()
    code = app.exec()
    window.close()
    print(f"smoke: main window with {len(pages())} pages " + ("painted" if code == 0 else "never painted"))
    return code


def run(db: str | None = None, argv: list[str] | None = None, *, smoke: bool = False) -> int:
    app_log.setup()
    app = make_application(argv or sys.argv)
    _route_qt_messages()
    fonts = cjk_font_families()
    if fonts:
        log.info("CJK fonts available: %s", ", ".join(fonts[:5]))
    else:
        log.warning("no font with Chinese glyphs is installed; text will show as boxes")
    first = splash(app)
    from app.db import open_database

    from .context import AppContext

    backups = []
    engine, sessions = open_database(db_url_from(db), on_backup=backups.append)
    ctx = AppContext(engine, sessions, TaskRunner(app))

    from .login import log_in

    first.close()

    # The smoke check asks nothing: it builds the screens and quits at once.
    if smoke:
        ctx.act_as_system("冒烟检查")
    elif not log_in(ctx):
        return 0

    from .main_window import MainWindow

    window = MainWindow(ctx)
    if smoke:
        window.show()
        return smoke_check(app, window)
    _install_crash_dialog(lambda: window)
    window.show()
    if not fonts:
        Dialogs.warn(window, tr("Chinese font missing"), tr("No font with Chinese characters is installed, so text shows as boxes. Install a Chinese font (on Debian: fonts-wqy-microhei)."))
    for backup in backups:
        Dialogs.info(window, tr("Database upgraded"),
                     tr("The database was upgraded for this version. The copy made before the upgrade is {path}.",
                        path=str(backup)))
    offer_demo(ctx, window)
    return app.exec()
