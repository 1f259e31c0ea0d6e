"""Users, roles and permissions enforced in the services (issue 4)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.errors import PermissionDenied, UserError, ValidationError
from app.models import AuditEntry, User, UserRole
from app.services import common, distribution, receiving, settings, users

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
    session.info["user_id"] = operator.id
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
    session.info["user_id"] = add_user(session, "qm", "quality_manager").id
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
    session.info["user_id"] = admin.id
    common.create(session, "warehouse", dict(code="W9", name="原料库", kind="material", storage_condition="ambient"))
    settings.put(session, "mass_balance_tolerance", "0.02")
    add_user(session, "new", "operator")
    with pytest.raises(PermissionDenied, match="系统管理员"):
        receiving.receive(session, receipt_values(p, p.soy))
    session.info["user_id"] = session.scalar(select(User.id).where(User.username == "new"))
    with pytest.raises(PermissionDenied, match="设置和用户"):
        add_user(session, "another", "operator")
    with pytest.raises(PermissionDenied):
        settings.put(session, "mass_balance_tolerance", "0.03")
    receiving.receive(session, receipt_values(p, p.soy))  # an operator enters records


def test_inactive_or_unknown_session_user_is_refused(session):
    user = add_user(session, "gone", "quality_manager")
    user.active = False
    session.flush()
    session.info["user_id"] = user.id
    with pytest.raises(PermissionDenied, match="重新登录"):
        users.require(session, "enter")
