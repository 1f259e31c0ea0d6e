"""Who is at the keyboard: the first-run administrator and the login.

A database without users asks for its administrator first (created as the
system account, which may ``configure``); then every start asks for a user
name and password. ``log_in`` sets ``ctx.user_id`` and ``ctx.actor``, so
every service call from then on runs as that user.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select

from app.errors import UserError
from app.i18n import tr
from app.models import User
from app.services import users

from .context import AppContext
from .dialogs import Dialogs

ERROR_STYLE = "color: #c62828;"


def has_users(ctx: AppContext) -> bool:
    # On the table, not the mapped class: the first ORM query configures every mapper
    # (a tenth of a second), and this one stands between the start and the first window.
    with ctx.read() as session:
        return session.scalar(select(User.__table__.c.id).limit(1)) is not None


class _Form(QDialog):
    @classmethod
    def ask(cls, ctx: AppContext, parent: QWidget | None = None) -> int | None:
        """The id of the user the dialog created or logged in; None when cancelled."""
        dialog = cls(ctx, parent)
        return dialog.user_id if dialog.exec() == QDialog.DialogCode.Accepted else None

    def __init__(self, ctx: AppContext, title: str, intro: str, parent: QWidget | None):
        super().__init__(parent)
        self.ctx = ctx
        self.user_id: int | None = None
        self.setWindowTitle(title)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.form = QFormLayout()
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        # Qt's own button texts are English unless its translations are loaded.
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("OK"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self.submit)  # each dialog defines submit
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def line(self, label: str, name: str, password: bool = False) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        if password:
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.form.addRow(label, edit)
        return edit

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def differ(self, password: QLineEdit, repeat: QLineEdit) -> bool:
        """Whether the two typings of a new password differ (then said so)."""
        if password.text() != repeat.text():
            self.show_error(tr("The two passwords differ."))
            return True
        return False


class FirstRunDialog(_Form):
    """Create the administrator of a database that has no users yet."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, tr("Create the administrator"), tr("This database has no users yet. Create the administrator, who keeps the settings and the users."), parent)
        self.username = self.line(tr("User name"), "username")
        self.display_name = self.line(tr("Printed name"), "display_name")
        self.password = self.line(tr("Password"), "password", password=True)
        self.repeat = self.line(tr("Password again"), "repeat", password=True)

    def submit(self) -> None:
        if self.differ(self.password, self.repeat):
            return
        try:
            self.user_id, code = create_administrator_with_code(
                self.ctx, self.username.text(), self.display_name.text(), self.password.text())
        except UserError as error:
            self.show_error(error.message)
            return
        # Shown once: only its hash is kept (services.users.issue_recovery_code).
        Dialogs.info(self, tr("Recovery code"), tr(
            "Write down this recovery code and give it to the head of the enterprise to keep:\n\n{code}\n\n"
            "It is shown only this once. If every administrator's password is forgotten, it sets a new one "
            "(foodarchive reset-password USERNAME --recovery-code); without it, or an administrator's password, "
            "no password can be reset.", code=code))
        self.accept()


def create_administrator_with_code(ctx: AppContext, username: str, display_name: str, password: str) -> tuple[int, str]:
    """Create the first user, role admin, as the system account, and the
    recovery code that resets a password when every administrator forgot it."""
    def write(session):
        admin = users.create_first_administrator(session, username, display_name, password)
        return admin.id, users.issue_recovery_code(session)

    return ctx.write(write, as_system="首次启动")(None)


def create_administrator(ctx: AppContext, username: str, display_name: str, password: str) -> int:
    """Create the first user, role admin, as the system account."""
    return create_administrator_with_code(ctx, username, display_name, password)[0]


class LoginDialog(_Form):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, tr("Log in"), tr("Log in with your user name and password."), parent)
        self.username = self.line(tr("User name"), "username")
        self.password = self.line(tr("Password"), "password", password=True)

    def submit(self) -> None:
        try:
            self.user_id = check_login(self.ctx, self.username.text(), self.password.text())
        except UserError as error:
            self.password.clear()
            self.show_error(error.message)
            return
        self.accept()


def check_login(ctx: AppContext, username: str, password: str) -> int:
    with ctx.read() as session:
        session.info.pop("user_id", None)
        return users.authenticate(session, username, password).id


def log_in(ctx: AppContext, parent: QWidget | None = None) -> bool:
    """The login, or on first run (no users) the creation of the administrator,
    who is then logged in; False when the user cancels. Sets ``ctx.user_id``,
    ``ctx.actor`` and the roles ``ctx.may`` answers from."""
    if has_users(ctx):
        user_id = LoginDialog.ask(ctx, parent)
    else:
        # The administrator just typed the password twice: no third time.
        user_id = FirstRunDialog.ask(ctx, parent)
    if user_id is None:
        return False
    ctx.log_in(user_id)
    return True


class ChangePasswordDialog(_Form):
    """A user changes the own password (the old one proves who it is)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, tr("Change my password"), tr("Enter your current password, then the new one twice."), parent)
        self.username = self.line(tr("User name"), "username")
        self.old = self.line(tr("Current password"), "old", password=True)
        self.new = self.line(tr("New password"), "new", password=True)
        self.repeat = self.line(tr("Password again"), "repeat", password=True)
        with ctx.read() as session:
            user = session.get(User, ctx.user_id) if ctx.user_id is not None else None
            if user is not None:
                self.username.setText(user.username)
                self.username.setReadOnly(True)

    def submit(self) -> None:
        if self.differ(self.new, self.repeat):
            return
        username, old, new = self.username.text(), self.old.text(), self.new.text()
        try:
            self.ctx.write(lambda session: users.change_password(session, username, old, new))(None)
        except UserError as error:
            self.show_error(error.message)
            return
        self.accept()
