"""Users, roles and the permission matrix (Qt-free).

One user per member of staff; the roles are the posts of R1.7. What a role
may do is declared once here and enforced in the services by ``require``.

Who is acting is said by the session (``services.acting``): a user who
logged in is checked against the roles; the system account, named explicitly
by the command line, the demo load and scheduled tasks, may do everything; a
session that names nobody may do nothing that ``require`` guards.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import FieldError, PermissionDenied, UserError, ValidationError
from app.models import Person, User, UserRole

from . import acting, throttle

ROLES: dict[str, str] = {
    "quality_manager": "质量负责人",
    "inspector": "检验员",
    "warehouse_keeper": "仓库保管员",
    "operator": "生产操作员",
    "technician": "技术员",
    "safety_manager": "安全管理员",
    "purchaser": "采购员",
    "admin": "系统管理员",
}

ACTIONS: dict[str, str] = {
    "enter": "录入记录",
    "sign": "签名",
    "amend": "更正已提交的记录",
    "release": "放行产品",
    "recall": "发起召回",
    "qualify": "评价、准入和暂停供应商",
    "seal": "封卷",
    "print": "打印",
    "export": "导出",
    "configure": "修改设置和用户",
}

PERMISSIONS: dict[str, frozenset[str]] = {
    "quality_manager": frozenset({"enter", "sign", "amend", "release", "recall", "qualify", "seal", "print", "export"}),
    "inspector": frozenset({"enter", "sign", "amend", "print", "export"}),
    "technician": frozenset({"enter", "sign", "amend", "seal", "print", "export"}),
    "safety_manager": frozenset({"enter", "sign", "amend", "seal", "print", "export"}),
    "warehouse_keeper": frozenset({"enter", "sign", "print"}),
    "operator": frozenset({"enter", "sign", "print"}),
    "purchaser": frozenset({"enter", "sign", "print", "export"}),
    # The administrator keeps the system and its master data, and signs nothing.
    "admin": frozenset({"configure", "enter"}),
}

SUPPLIER_LEDGERS = frozenset({
    "supplier", "supplier_material", "supplier_document", "supplier_document_material", "platform_check",
})
# What each post enters (R1.7, R5.4): ledger groups (as the navigation shows
# them) or single ledgers; None is every ledger. Recall, archive and amendment
# rows are made by their own actions, which check their own permission.
ENTER_SCOPE: dict[str, frozenset[str] | None] = {
    "quality_manager": None,
    "inspector": frozenset({"检验", "进货查验"}),
    "technician": frozenset({"生产", "检验", "process_step", "ccp", "formula_item", "inspection_standard"}),
    "safety_manager": frozenset({"安全管理", "equipment", "training_record", "duty_record", "device", "reading_profile"}),
    "warehouse_keeper": frozenset({"进货查验", "仓储", "出厂与销售"}),
    "operator": frozenset({"生产"}),
    "purchaser": SUPPLIER_LEDGERS | {"material", "进货查验"},
    "admin": frozenset({"基础数据"}),
}

SIGN_MEANINGS: dict[str, frozenset[str]] = {
    "operator": frozenset({"操作", "编制"}),
    "warehouse_keeper": frozenset({"操作", "编制"}),
    "purchaser": frozenset({"操作", "编制"}),
    "inspector": frozenset({"编制", "操作", "复核"}),
    "technician": frozenset({"复核", "审核"}),
    "safety_manager": frozenset({"审核", "复核"}),
    "quality_manager": frozenset({"编制", "操作", "复核", "审核", "批准"}),
    "admin": frozenset(),
}

MIN_PASSWORD = 8

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user name is unknown, so a wrong name and a
    wrong password take the same time; made on first use, not at start-up."""
    return _hasher.hash("foodarchive-no-such-user")


def role_labels(roles: Iterable[str]) -> str:
    return "、".join(ROLES.get(role, role) for role in sorted(roles)) or "无角色"


def roles_of(session: Session, user: User) -> set[str]:
    with session.no_autoflush:
        return set(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))


def create_user(
    session: Session,
    username: str,
    display_name: str,
    password: str,
    roles: Iterable[str],
    person_id: int | None = None,
) -> User:
    """Add a user with its roles; the password is kept only as an argon2 hash."""
    require(session, "configure")
    username = (username or "").strip()
    display_name = (display_name or "").strip()
    roles = sorted(set(roles))
    errors: list[FieldError] = []
    if not username:
        errors.append(FieldError("username", "用户名", "「用户名」不能为空"))
    elif session.scalar(select(User.id).where(User.username == username)) is not None:
        errors.append(FieldError("username", "用户名", f"「用户名」{username} 已被使用"))
    errors += _profile_errors(session, display_name, roles, person_id)
    errors += _password_errors(password)
    if errors:
        raise ValidationError(errors)
    user = User(
        username=username,
        display_name=display_name,
        password_hash=_hasher.hash(password),
        person_id=person_id,
        active=True,
    )
    session.add(user)
    session.flush()
    session.add_all(UserRole(user_id=user.id, role=role) for role in roles)
    session.flush()
    return user


def create_users(session: Session, entries: Iterable[tuple[str, str, Iterable[str], int | None]],
                 password: str) -> list[User]:
    """Several users (user name, printed name, roles, person) who start with the
    same password, hashed once: argon2 is slow on purpose, and a factory set up
    at once (the demo's, whose password the README prints) should not wait for
    it user by user. Every other rule of ``create_user`` holds."""
    require(session, "configure")
    errors = _password_errors(password)
    if errors:
        raise ValidationError(errors)
    digest = _hasher.hash(password)
    made = []
    for username, display_name, roles, person_id in entries:
        username, display_name, roles = (username or "").strip(), (display_name or "").strip(), sorted(set(roles))
        problems = _profile_errors(session, display_name, roles, person_id)
        if not username or session.scalar(select(User.id).where(User.username == username)) is not None:
            problems.append(FieldError("username", "用户名", f"「用户名」{username or '（空）'} 不能使用"))
        if problems:
            raise ValidationError(problems)
        user = User(username=username, display_name=display_name, password_hash=digest, person_id=person_id,
                    active=True)
        session.add(user)
        session.flush()
        session.add_all(UserRole(user_id=user.id, role=role) for role in roles)
        made.append(user)
    session.flush()
    return made


def create_first_administrator(session: Session, username: str, display_name: str, password: str) -> User:
    """The administrator of a database that has no users yet; refused once
    there is any user, so this door opens only on the first start."""
    if session.scalar(select(User.id).limit(1)) is not None:
        raise PermissionDenied("数据库中已有用户：新的系统管理员由现有的系统管理员添加")
    return create_user(session, username, display_name, password, ["admin"])


def _profile_errors(session: Session, display_name: str, roles: list[str], person_id: int | None) -> list[FieldError]:
    errors = []
    if not display_name:
        errors.append(FieldError("display_name", "签名姓名", "「签名姓名」不能为空"))
    if not roles:
        errors.append(FieldError("roles", "角色", "「角色」至少选择一个"))
    if any(role not in ROLES for role in roles):
        errors.append(FieldError("roles", "角色", "「角色」应为以下之一：" + "、".join(ROLES.values())))
    if person_id is not None and session.get(Person, person_id) is None:
        errors.append(FieldError("person_id", "人员", "「人员」不存在"))
    return errors


def _password_errors(password: str, field: str = "password", label: str = "密码") -> list[FieldError]:
    if len(password or "") < MIN_PASSWORD:
        return [FieldError(field, label, f"「{label}」至少 {MIN_PASSWORD} 个字符")]
    return []


def _active_admins(session: Session) -> set[int]:
    return set(session.scalars(
        select(User.id).join(UserRole, UserRole.user_id == User.id).where(User.active.is_(True), UserRole.role == "admin")
    ))


def update_user(
    session: Session, user_id: int, display_name: str, roles: Iterable[str], person_id: int | None, active: bool,
) -> User:
    """Change a user's printed name, roles, personnel link or whether the user
    may log in. Users are never deleted: their signatures keep pointing at them."""
    require(session, "configure")
    user = session.get(User, user_id)
    if user is None:
        raise UserError("用户不存在")
    display_name = (display_name or "").strip()
    roles = sorted(set(roles))
    errors = _profile_errors(session, display_name, roles, person_id)
    if errors:
        raise ValidationError(errors)
    admins = _active_admins(session) - {user.id}
    if not admins and not (active and "admin" in roles):
        raise ValidationError(FieldError("roles", "角色", "至少要保留一位在用的系统管理员"))
    user.display_name, user.person_id, user.active = display_name, person_id, bool(active)
    current = roles_of(session, user)
    for row in session.scalars(select(UserRole).where(UserRole.user_id == user.id)):
        if row.role not in roles:
            session.delete(row)
    session.add_all(UserRole(user_id=user.id, role=role) for role in roles if role not in current)
    session.flush()
    return user


def reset_password(session: Session, user_id: int, new_password: str) -> None:
    """The administrator sets a new password for a user who forgot it."""
    require(session, "configure")
    user = session.get(User, user_id)
    if user is None:
        raise UserError("用户不存在")
    errors = _password_errors(new_password, "new_password", "新密码")
    if errors:
        raise ValidationError(errors)
    user.password_hash = _hasher.hash(new_password)
    session.flush()


# ------------------------------------------- when the password is forgotten

RECOVERY_KEY = "recovery_code_hash"  # a row of the setting table: the code's argon2 hash
RECOVERY_HINT = "系统管理员可以用 foodarchive recovery-code --admin 用户名 生成新的恢复码。"
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper


def issue_recovery_code(session: Session) -> str:
    """A new recovery code, shown once (kept only as a hash; the old one no
    longer works): with it, and without any password, ``reset-password``
    sets a new password. Made when the first administrator is created; made
    again by an administrator, and after every use."""
    import secrets

    from app.models import Setting

    require(session, "configure")
    code = "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(5))
    row = session.scalar(select(Setting).where(Setting.key == RECOVERY_KEY))
    if row is None:
        session.add(Setting(key=RECOVERY_KEY, value=_hasher.hash(code)))
    else:
        row.value = _hasher.hash(code)
    session.flush()
    return code


def _check_recovery_code(session: Session, code: str) -> None:
    from app.models import Setting

    row = session.scalar(select(Setting).where(Setting.key == RECOVERY_KEY))
    if row is None:
        raise UserError("这个数据库没有恢复码：请由一位系统管理员用自己的密码重设（--admin）")
    throttle.LOGINS.check(RECOVERY_KEY)
    normal = "-".join("".join(ch for ch in (code or "").upper() if ch.isalnum())[i:i + 5] for i in range(0, 25, 5))
    try:
        _hasher.verify(row.value, normal)
    except (VerificationError, InvalidHashError):
        throttle.LOGINS.failed(RECOVERY_KEY)
        raise UserError("恢复码不正确") from None
    throttle.LOGINS.succeeded(RECOVERY_KEY)


def administrator(session: Session, username: str, password: str) -> User:
    """An active administrator proving the own password (throttled)."""
    admin = authenticate(session, username, password)
    if "admin" not in roles_of(session, admin):
        raise PermissionDenied(f"「{admin.username}」不是系统管理员：只有系统管理员能为其他用户重设密码")
    return admin


def recover_password(session: Session, username: str, new_password: str, *, admin: tuple[str, str] | None = None,
                     recovery_code: str | None = None) -> str | None:
    """Set a forgotten password, proven by an administrator's user name and
    password (the change is then the administrator's, in the audit log) or
    by the recovery code (used up: the new one is returned, to be shown once).
    Without either, nothing changes: a shell on the PC is not enough."""
    if admin is not None:
        acting.bind(session, acting.user_of(session, administrator(session, *admin).id))
    elif recovery_code is not None:
        _check_recovery_code(session, recovery_code)
    else:
        raise UserError("重设密码需要一位系统管理员的用户名和密码（--admin 用户名），"
                        "或创建系统管理员时显示的恢复码（--recovery-code）")
    user_id = session.scalar(select(User.id).where(User.username == (username or "").strip()))
    if user_id is None:
        raise UserError(f"没有用户「{username}」")
    if recovery_code is None:
        reset_password(session, user_id, new_password)
        return None
    session.info["reason"] = "凭恢复码重设密码"  # the audit log says how, the actor being the command line
    try:
        reset_password(session, user_id, new_password)
    finally:
        session.info.pop("reason", None)
    return issue_recovery_code(session)


def change_password(session: Session, username: str, old_password: str, new_password: str) -> None:
    """A user changes the own password, proving the old one."""
    user = authenticate(session, username, old_password)
    errors = _password_errors(new_password, "new_password", "新密码")
    if errors:
        raise ValidationError(errors)
    user.password_hash = _hasher.hash(new_password)
    session.flush()


class UserRow(NamedTuple):
    id: int
    username: str
    display_name: str
    person_id: int | None
    roles: frozenset[str]
    active: bool


def list_users(session: Session) -> list[UserRow]:
    require(session, "configure")
    roles: dict[int, set[str]] = {}
    for user_id, role in session.execute(select(UserRole.user_id, UserRole.role)):
        roles.setdefault(user_id, set()).add(role)
    return [
        UserRow(u.id, u.username, u.display_name, u.person_id, frozenset(roles.get(u.id, ())), u.active)
        for u in session.scalars(select(User).order_by(User.username))
    ]


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with this name and password; UserError otherwise.
    Failures slow down (services.throttle), for a name that exists or not."""
    throttle.LOGINS.check(username or "")
    user = session.scalar(select(User).where(User.username == (username or "").strip()))
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password or "")
    except (VerificationError, InvalidHashError):
        throttle.LOGINS.failed(username or "")
        raise UserError("用户名或密码不正确") from None
    if user is None:
        throttle.LOGINS.failed(username or "")
        raise UserError("用户名或密码不正确")
    throttle.LOGINS.succeeded(username)
    if not user.active:
        raise UserError(f"用户「{user.username}」已停用")
    return user


def current_user(session: Session) -> User | None:
    """The logged-in user of this session; None for the system account."""
    user_id = session.info.get("user_id")
    if user_id is None:
        return None
    with session.no_autoflush:
        user = session.get(User, user_id)
    if user is None or not user.active:
        raise PermissionDenied("当前用户不存在或已停用，请重新登录")
    return user


def may(roles: Iterable[str], action: str, ledger_key: str | None = None) -> bool:
    """Whether any of ``roles`` may do ``action`` (on the ledger ``ledger_key``)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    for role in roles:
        if action not in PERMISSIONS.get(role, ()):
            continue
        if action == "enter" and not may_enter(role, ledger_key):
            continue
        return True
    return False


def may_enter(role: str, ledger_key: str | None) -> bool:
    """Whether ``role`` enters records of this ledger (any ledger when None:
    the question "does this post enter anything at all")."""
    scope = ENTER_SCOPE.get(role, frozenset())
    if scope is None or ledger_key is None:
        return True
    from app.ledgers import ledger

    return ledger_key in scope or ledger(ledger_key).group in scope


def require(session: Session, action: str, ledger_key: str | None = None) -> None:
    """Refuse with PermissionDenied unless the session's actor may do ``action``.

    The system account may do everything; a session naming nobody nothing.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if acting.required(session).is_system:
        return
    user = current_user(session)
    roles = roles_of(session, user)
    if not may(roles, action, ledger_key):
        raise PermissionDenied(f"{user.display_name}（{role_labels(roles)}）无权{ACTIONS[action]}")


def may_sign(roles: Iterable[str], meaning: str) -> bool:
    return any("sign" in PERMISSIONS.get(role, ()) and meaning in SIGN_MEANINGS.get(role, ()) for role in roles)


def person_choices(session: Session) -> list[tuple[int, str]]:
    """Staff a user can be linked to: (id, "工号 姓名")."""
    return [(p.id, f"{p.employee_no} {p.name}") for p in session.scalars(select(Person).order_by(Person.employee_no))]
