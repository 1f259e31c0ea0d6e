"""Users and roles (系统管理员 only): who may log in, and what each may do.

Users are never deleted — their signatures keep pointing at them — only
made inactive. The permission matrix itself is fixed in app.services.users
and shown beside the form, so the administrator sees what a role grants.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from app.i18n import tr
from app.services import users

from .context import AppContext
from .dialogs import show_error
from .workflow_kit import ErrorLabel, IdCombo, fill_table, make_table, select_key


class UsersPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.user_id: int | None = None
        self.rows: dict[int, users.UserRow] = {}
        self._busy = False

        self.table = make_table([tr("User name"), tr("Printed name"), tr("Roles"), tr("Staff member"), tr("State")], stretch=2)
        self.table.setObjectName("users")
        self.table.itemSelectionChanged.connect(self._picked)
        self.new_button = QPushButton(tr("New user"))
        self.new_button.setObjectName("newUser")
        self.new_button.clicked.connect(self.start_new)

        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("display_name")
        self.person = IdCombo()
        self.person.setObjectName("person")
        self.role_boxes: dict[str, QCheckBox] = {}
        roles_grid = QGridLayout()
        for index, (role, label) in enumerate(users.ROLES.items()):
            box = QCheckBox(label)
            box.setObjectName(f"role_{role}")
            box.setToolTip(self._grants(role))
            self.role_boxes[role] = box
            roles_grid.addWidget(box, index // 2, index % 2)
        self.active = QCheckBox(tr("May log in"))
        self.active.setObjectName("active")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_label = QLabel(tr("Password"))
        self.save_button = QPushButton(tr("Save"))
        self.save_button.setObjectName("saveUser")
        self.save_button.clicked.connect(self.save)
        self.error = ErrorLabel()
        self.message = QLabel("")

        form = QFormLayout()
        form.addRow(tr("User name"), self.username)
        form.addRow(tr("Printed name"), self.display_name)
        form.addRow(tr("Staff member"), self.person)
        form.addRow(tr("Roles"), roles_grid)
        form.addRow("", self.active)
        form.addRow(self.password_label, self.password)
        self.form_box = QGroupBox(tr("New user"))
        box_layout = QVBoxLayout(self.form_box)
        box_layout.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        box_layout.addLayout(buttons)
        box_layout.addWidget(self.error)
        box_layout.addWidget(self.message)
        hint = QLabel(tr("Hover over a role to see what it may do. Users are never deleted, so their signatures stay readable; untick 'May log in' instead."))
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #6b6b6b;")
        box_layout.addWidget(hint)
        box_layout.addStretch(1)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("Users")), 1)
        top.addWidget(self.new_button)
        left_layout.addLayout(top)
        left_layout.addWidget(self.table, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.form_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        QVBoxLayout(self).addWidget(splitter)
        self.reload()
        self.start_new()

    @staticmethod
    def _grants(role: str) -> str:
        actions = "、".join(users.ACTIONS[a] for a in users.ACTIONS if a in users.PERMISSIONS[role])
        meanings = "、".join(sorted(users.SIGN_MEANINGS[role])) or tr("none")
        return tr("May: {actions}. Signs as: {meanings}.", actions=actions, meanings=meanings)

    # ------------------------------------------------------------ data

    def reload(self, select: int | None = None) -> None:
        try:
            with self.ctx.read() as session:
                rows = users.list_users(session)
                people = users.person_choices(session)
        except UserError as error:
            show_error(self, error)
            return
        self.rows = {row.id: row for row in rows}
        names = dict(people)
        self.person.set_rows([(0, tr("(not linked)"))] + people)
        fill_table(
            self.table,
            [[r.username, r.display_name, users.role_labels(r.roles), names.get(r.person_id, ""),
              tr("In use") if r.active else tr("Inactive")] for r in rows],
            keys=[r.id for r in rows],
        )
        if select is not None:
            select_key(self.table, select)

    def _picked(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        row = self.rows.get(self.table.item(items[0].row(), 0).data(Qt.ItemDataRole.UserRole))
        if row is None:
            return
        self.user_id = row.id
        self.form_box.setTitle(tr("User {name}", name=row.username))
        self.username.setText(row.username)
        self.username.setReadOnly(True)
        self.display_name.setText(row.display_name)
        self.person.select_id(row.person_id or 0)
        for role, box in self.role_boxes.items():
            box.setChecked(role in row.roles)
        self.active.setChecked(row.active)
        self.active.setEnabled(True)
        self.password.clear()
        self.password_label.setText(tr("New password (empty: unchanged)"))
        self.error.clear_message()

    def start_new(self) -> None:
        self.user_id = None
        self.table.clearSelection()
        self.form_box.setTitle(tr("New user"))
        self.username.clear()
        self.username.setReadOnly(False)
        self.display_name.clear()
        self.person.select_id(0)
        for box in self.role_boxes.values():
            box.setChecked(False)
        self.active.setChecked(True)
        self.active.setEnabled(False)
        self.password.clear()
        self.password_label.setText(tr("Password"))
        self.error.clear_message()

    def save(self) -> None:
        if self._busy:
            return
        user_id = self.user_id
        username, name, password = self.username.text(), self.display_name.text(), self.password.text()
        person_id = self.person.current_id() or None
        roles = [role for role, box in self.role_boxes.items() if box.isChecked()]
        active = self.active.isChecked()

        def work(session) -> int:
            if user_id is None:
                return users.create_user(session, username, name, password, roles, person_id).id
            users.update_user(session, user_id, name, roles, person_id, active)
            if password:
                users.reset_password(session, user_id, password)
            return user_id

        self._busy = True
        self.save_button.setEnabled(False)
        self.error.clear_message()
        self.ctx.runner.run(self.ctx.write(work), self._saved, self._failed)

    def _saved(self, user_id: int) -> None:
        self._busy = False
        self.save_button.setEnabled(True)
        self.message.setText(tr("Saved."))
        self.reload(select=user_id)

    def _failed(self, error: BaseException) -> None:
        self._busy = False
        self.save_button.setEnabled(True)
        self.message.setText("")
        if isinstance(error, UserError):  # a ValidationError's message names every field
            self.error.show_message(error.message)
        else:
            show_error(self, error)
