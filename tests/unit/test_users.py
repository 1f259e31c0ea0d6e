"""Users, roles and permissions enforced in the services (issue 4)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.errors import PermissionDenied, UserError, ValidationError
from app.models import AuditEntry, User, UserRole
from app.services import acting, common, distribution, receiving, settings, users

from .builders import base_batch, lot, packed_commodity, plant, receipt_values, release_inspection

PASSWORD = "correct-horse-9"


def add_user(session, username, *roles, person_id=None):
    return users.create_user(session, username, f"{username}姓名", PASSWORD, roles, person_id=person_id)


def audit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry))


def test_roles_and_matrix_are_complete():
    assert set(users.PERMISSIONS) == set(users.ROLES) == set(users.SIGN_MEANINGS)
    assert all(actions <= set(users.ACTIONS) for actions in users.PERMISSIONS.values())
    assert users.PERMISSIONS["admin"] == {"configure", "enter"} and not users.SIGN_MEANINGS["admin"]
    assert "批准" in users.SIGN_MEANINGS["quality_manager"]
    assert not any("批准" in users.SIGN_MEANINGS[role] for role in users.ROLES if role != "quality_manager")


def test_password_is_hashed_and_checked(session):
    p = plant(session)
    user = add_user(session, "wang", "inspector", person_id=p.person.id)
    assert PASSWORD not in user.password_hash and user.password_hash.startswith("$argon2")
    assert session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)).all() == ["inspector"]
    assert users.authenticate(session, "wang", PASSWORD) is user
    for name, password in (("wang", "wrong-password"), ("nobody", PASSWORD), ("wang", "")):
        with pytest.raises(UserError, match="用户名或密码不正确"):
            users.authenticate(session, name, password)
    user.active = False
    session.flush()
    with pytest.raises(UserError, match="停用"):
        users.authenticate(session, "wang", PASSWORD)


def test_create_user_validates(session):
    with pytest.raises(ValidationError) as caught:
        users.create_user(session, "li", "李四", "short", ["operator"])
    assert [e.field for e in caught.value.errors] == ["password"] and "「密码」" in caught.value.message
    with pytest.raises(ValidationError, match="角色"):
        users.create_user(session, "li", "李四", PASSWORD, ["cook"])
    add_user(session, "li", "operator")
    with pytest.raises(ValidationError, match="已被使用"):
        add_user(session, "li", "operator")


def test_wrong_role_is_refused_and_nothing_is_written(session):
    p = plant(session)
    commodity = packed_commodity(session, p, base_batch(session, p, lot(session, p, p.soy)))
    release_inspection(session, p, commodity)
    operator = add_user(session, "op", "operator")
    before = audit_count(session)
    acting.bind(session, acting.user_of(session, operator.id))
    with pytest.raises(PermissionDenied) as caught:
        distribution.release(session, commodity, by=p.person.id)
    assert "生产操作员" in caught.value.message and "放行" in caught.value.message
    assert commodity.status == "packed" and audit_count(session) == before
    with pytest.raises(PermissionDenied, match="召回"):
        distribution.recall(session, commodity.product_batch, dict(reason="测试", level="level_3", started_on="2026-11-20"))
    with pytest.raises(PermissionDenied, match="更正"):
        common.amend(session, commodity, {"remarks": "改"}, "测试")
    with pytest.raises(PermissionDenied, match="设置"):
        settings.put(session, "mass_balance_tolerance", "0.02")
    assert audit_count(session) == before


def test_quality_manager_releases(session):
    p = plant(session)
    commodity = packed_commodity(session, p, base_batch(session, p, lot(session, p, p.soy)))
    release_inspection(session, p, commodity)
    acting.bind(session, acting.user_of(session, add_user(session, "qm", "quality_manager").id))
    distribution.release(session, commodity, by=p.person.id)
    assert commodity.status == "released"


def test_no_user_is_the_system_account(session):
    assert "user_id" not in session.info
    p = plant(session)  # master data, receipts, settings: all allowed
    receiving.receive(session, receipt_values(p, p.soy))
    settings.put(session, "mass_balance_tolerance", "0.02")
    users.require(session, "release")
    with pytest.raises(ValueError):
        users.require(session, "fly")


def test_admin_enters_master_data_and_configures_only(session):
    p = plant(session)
    admin = add_user(session, "admin", "admin")
    acting.bind(session, acting.user_of(session, admin.id))
    common.create(session, "warehouse", dict(code="W9", name="原料库", kind="material", storage_condition="ambient"))
    settings.put(session, "mass_balance_tolerance", "0.02")
    add_user(session, "new", "operator")
    with pytest.raises(PermissionDenied, match="系统管理员"):
        receiving.receive(session, receipt_values(p, p.soy))
    acting.bind(session, acting.user_of(session, session.scalar(select(User.id).where(User.username == "new"))))
    with pytest.raises(PermissionDenied, match="设置和用户"):
        add_user(session, "another", "operator")
    with pytest.raises(PermissionDenied):
        settings.put(session, "mass_balance_tolerance", "0.03")
    with pytest.raises(PermissionDenied, match="生产操作员"):
        receiving.receive(session, receipt_values(p, p.soy))  # receipts are the warehouse's
    acting.bind(session, acting.user_of(session, admin.id))
    acting.bind(session, acting.user_of(session, add_user(session, "keeper", "warehouse_keeper").id))
    receiving.receive(session, receipt_values(p, p.soy))


def test_inactive_or_unknown_session_user_is_refused(session):
    user = add_user(session, "gone", "quality_manager")
    user.active = False
    session.flush()
    acting.bind(session, acting.user_of(session, user.id))
    with pytest.raises(PermissionDenied, match="重新登录"):
        users.require(session, "enter")


def test_administrator_changes_roles_and_deactivates_but_keeps_one_admin(session):
    admin = add_user(session, "admin", "admin")
    wang = add_user(session, "wang", "operator")
    acting.bind(session, acting.user_of(session, admin.id))
    users.update_user(session, wang.id, "王五", ["inspector", "operator"], None, True)
    assert users.roles_of(session, wang) == {"inspector", "operator"} and wang.display_name == "王五"
    rows = {row.username: row for row in users.list_users(session)}
    assert rows["wang"].roles == {"inspector", "operator"} and rows["admin"].roles == {"admin"}
    users.update_user(session, wang.id, "王五", ["inspector"], None, False)
    with pytest.raises(UserError, match="停用"):
        users.authenticate(session, "wang", PASSWORD)
    for roles, active in ((["quality_manager"], True), (["admin"], False)):
        with pytest.raises(ValidationError, match="至少要保留一位在用的系统管理员"):
            users.update_user(session, admin.id, "管理员", roles, None, active)
    assert users.roles_of(session, admin) == {"admin"} and admin.active
    with pytest.raises(ValidationError, match="签名姓名"):
        users.update_user(session, wang.id, " ", ["inspector"], None, True)


def test_only_the_administrator_manages_users(session):
    add_user(session, "admin", "admin")
    manager = add_user(session, "qian", "quality_manager")
    acting.bind(session, acting.user_of(session, manager.id))
    for call in (
        lambda: users.list_users(session),
        lambda: users.update_user(session, manager.id, "钱", ["admin"], None, True),
        lambda: users.reset_password(session, manager.id, "new-password-1"),
    ):
        with pytest.raises(PermissionDenied, match="无权修改设置和用户"):
            call()
    assert users.roles_of(session, manager) == {"quality_manager"}


def test_passwords_are_reset_by_the_admin_or_changed_with_the_old_one(session):
    wang = add_user(session, "wang", "operator")
    with pytest.raises(ValidationError, match="「新密码」至少"):
        users.reset_password(session, wang.id, "short")
    users.reset_password(session, wang.id, "reset-password-1")
    users.authenticate(session, "wang", "reset-password-1")
    with pytest.raises(UserError, match="用户名或密码不正确"):
        users.change_password(session, "wang", PASSWORD, "mine-password-2")
    users.change_password(session, "wang", "reset-password-1", "mine-password-2")
    assert users.authenticate(session, "wang", "mine-password-2") is wang
