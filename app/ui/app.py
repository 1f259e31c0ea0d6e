"""Start order: logging, the display, QApplication, i18n, the Chinese font,
database upgrade, login (the administrator first, in a database without
users), main window.

Whatever stops the start — no display, no Chinese font, a database that
cannot be opened — is said in a dialog (and a line on standard error, for
the command line), before any other window: the windowed build has no
console to print a traceback to."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QFontDatabase, QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QLabel, QProgressDialog, QVBoxLayout, QWidget

from app import i18n
from app import log as app_log
from app.i18n import tr
from app.paths import chosen_database

from .dialogs import Dialogs, show_error
from .tasks import TaskRunner, writes

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

    def handle(kind, _context, message) -> None:
        qt_log.log(levels.get(kind, logging.WARNING), message)
        if kind == QtMsgType.QtFatalMsg:
            # Qt aborts next (exit 134) with an English text that blames the
            # installation; say what to check, and end with an ordinary code.
            from app.problems import QT_APT

            _say("错误：" + tr("The window cannot start: Qt could not use the display. On Linux, install the "
                              "libraries Qt needs: {command} (see docs/troubleshooting.md); or use the commands "
                              "(foodarchive --help).", command=QT_APT))
            logging.shutdown()
            os._exit(1)

    qInstallMessageHandler(handle)


def _say(text: str) -> None:
    if sys.stderr is not None:
        print(text, file=sys.stderr, flush=True)


def _x_server_answers() -> bool:
    """Whether the X server DISPLAY names accepts a connection (libxcb, as Qt
    would); True when that cannot be known here, so Qt decides."""
    name = ctypes.util.find_library("xcb")
    if not name:
        return True
    try:
        xcb = ctypes.CDLL(name)
    except OSError:
        return True
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(None, None)
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


def display_problem() -> str | None:
    """A DISPLAY that names no reachable X server (a closed SSH session, a
    stopped Xvfb): Qt would abort with exit 134. None when all is well."""
    if not sys.platform.startswith("linux"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    display = os.environ.get("DISPLAY", "")
    if (platform and not platform.startswith("xcb")) or not display:
        return None
    if not platform and os.environ.get("WAYLAND_DISPLAY"):
        return None  # Qt takes Wayland first
    if _x_server_answers():
        return None
    return tr("Cannot connect to the display DISPLAY={display}: no X server answers there (a remote session that "
              "ended, or a display that was closed). Log in again, or unset DISPLAY and use the commands "
              "(foodarchive --help).", display=display)


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


def install_qt_translations(app: QApplication, language: str) -> bool:
    """Qt's own texts (the standard buttons Yes/No/OK/Cancel, the context
    menus of text fields) in the application's language, from the catalogue
    PySide6 ships (qtbase_zh_CN.qm); whether it loaded."""
    from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

    old = getattr(app, "_qt_translator", None)
    if old is not None:
        app.removeTranslator(old)
        app._qt_translator = None
    if language == "en":
        return True
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load(QLocale(language), "qtbase", "_", folder):
        log.warning("Qt's %s translations not found in %s: its standard buttons stay in English", language, folder)
        return False
    app.installTranslator(translator)
    app._qt_translator = translator  # kept: a translator that is collected stops translating
    return True


def make_application(argv: list[str]) -> QApplication:
    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName("FoodArchive")
    app.setApplicationName("FoodArchive")
    app.setApplicationDisplayName("食品质量技术档案")
    app.setWindowIcon(app_icon())
    i18n.set_language(str(QSettings().value("ui/language", i18n.DEFAULT)))
    install_qt_translations(app, i18n.language())
    return app


def offer_demo(ctx: AppContext, parent) -> None:
    """An empty database offers to load the demo factory, in the background."""
    from app.services import demo

    with ctx.read() as session:
        if not demo.is_empty(session):
            return
    if not Dialogs.confirm(parent, tr("Empty database"), tr("The database is empty. Load the demo factory to look around?")):
        return
    from app.services import acting

    dialog = QProgressDialog(tr("Loading the demo factory…"), "", 0, 0, parent)
    dialog.setCancelButton(None)
    dialog.setMinimumDuration(0)
    dialog.show()
    # The demo factory is loaded by the system account, not by the user who logged in.
    sessions = ctx.sessions.as_actor(acting.system(demo.ACTOR))

    def load(progress):
        with sessions.begin() as session:
            return demo.load(session, progress.report)

    def moved(done: int, total: int, text: str) -> None:
        dialog.setMaximum(total)
        dialog.setValue(min(done, total - 1))  # the last step is the commit, after the story
        dialog.setLabelText(tr("Loading the demo factory…") + ("\n" + text if text else ""))

    def finished(_result=None):
        dialog.close()

    def failed(error):
        dialog.close()
        show_error(parent, error)

    ctx.runner.run(writes(load), finished, failed, moved)


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


def check_fonts() -> bool:
    """Before the first window: without a Chinese font even the first screen
    (create the administrator) shows boxes, so say so first, in both languages."""
    fonts = cjk_font_families()
    if fonts:
        log.info("CJK fonts available: %s", ", ".join(fonts[:5]))
        return True
    from app.reports import fonts as print_fonts

    log.warning("no font with Chinese glyphs is installed; text will show as boxes")
    Dialogs.warn(None, print_fonts.in_both_languages(print_fonts.MISSING_TITLE).replace("\n\n", " / "),
                 print_fonts.in_both_languages(print_fonts.MISSING))
    return False


def open_or_explain(db: str | None, backups: list, *, dialog: bool = True, warnings: list | None = None):
    """The engine and sessions, or None after a dialog saying why the database
    cannot be opened and what to do (a missing, corrupt, read-only, locked,
    unreachable or newer database). Without ``dialog`` (the smoke check, which
    nobody watches) only the line on standard error."""
    from app.db import check_writable, open_database
    from app.problems import explain

    url, is_default = chosen_database(db)
    try:
        engine, sessions = open_database(url, on_backup=backups.append, create=is_default,
                                         on_tamper=(warnings if warnings is not None else []).extend)
        check_writable(engine)
        return engine, sessions
    except Exception as exc:  # noqa: BLE001 — the start's error boundary
        message = explain(exc, url)
        if message is None:
            log.exception("cannot open %s", url)
            from app import log as app_log

            message = tr("The database could not be opened because of an error in the program. Details: {where}.",
                         where=app_log.where())
        _say(f"错误：{message}")
        if dialog:
            Dialogs.warn(None, tr("Cannot open the database"), message)
        return None


def run(db: str | None = None, argv: list[str] | None = None, *, smoke: bool = False) -> int:
    app_log.setup()
    problem = display_problem()
    if problem:
        _say(f"错误：{problem}")
        return 1
    _route_qt_messages()  # before QApplication: its fatal start-up errors become our message
    app = make_application(argv or sys.argv)
    if not smoke:
        check_fonts()
        if app_log.problem():
            Dialogs.warn(None, tr("No log file"), app_log.problem())
    first = splash(app)  # painted before the database layer and the models load
    backups: list = []
    warnings: list[str] = []  # what the start's tamper checks found (app/db.py start_checks)
    opened = open_or_explain(db, backups, dialog=not smoke, warnings=warnings)
    if opened is None:
        first.close()
        return 1
    engine, sessions = opened
    from .context import AppContext

    ctx = AppContext(engine, sessions, TaskRunner(app))
    shown: dict = {}  # the main window, once there is one: error dialogs sit on it
    _install_crash_dialog(lambda: shown.get("window"))  # the login dialogs too

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
    shown["window"] = window
    window.show()
    for backup in backups:
        Dialogs.info(window, tr("Database upgraded"),
                     tr("The database was upgraded for this version. The copy made before the upgrade is {path}.",
                        path=str(backup)))
    if warnings:
        Dialogs.warn(window, tr("The audit log was tampered with"), "\n".join(warnings))
    offer_demo(ctx, window)
    return app.exec()
