"""Electronic signatures: ID + password, role, meaning, bound to content and record."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from app.cli import main
from app.db import open_database
from app.errors import PermissionDenied, UserError, ValidationError
from app.models import IncomingInspection, Signature
from app.services import acting, audit, common, receiving, signature_ink, signatures, users

from .builders import NOW, plant, receipt_values

PASSWORD = "correct-horse-9"


@pytest.fixture
def signed(session):
    """A factory with an inspector, an operator, a quality manager and one receipt."""
    p = plant(session)
    users.create_user(session, "wang", "王质检", PASSWORD, ["inspector"], person_id=p.person.id)
    users.create_user(session, "zhao", "赵操作", PASSWORD, ["operator"])
    users.create_user(session, "qian", "钱经理", PASSWORD, ["quality_manager"])
    receipt = receiving.receive(session, receipt_values(p, p.soy))
    return p, receipt


def signature_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Signature))


def signature_findings(session) -> list[str]:
    return [f.message for f in audit.verify(session.connection()) if f.table_name == "signature"]


def test_inspector_signs_a_receipt(session, signed):
    _p, receipt = signed
    sig = signatures.sign(session, receipt, "wang", PASSWORD, "操作")
    assert (sig.printed_name, sig.meaning, sig.signed_at) == ("王质检", "操作", NOW)
    assert (sig.table_name, sig.row_id) == ("incoming_inspection", receipt.id)
    assert sig.content_hash == signatures.content_hash(session, receipt)
    assert signatures.status(session, receipt) == [("操作", sig, True), ("复核", None, False)]
    assert signatures.missing(session, receipt) == ["复核"]
    assert audit.verify(session.connection()) == []


def test_wrong_password_is_refused(session, signed):
    _p, receipt = signed
    with pytest.raises(UserError, match="用户名或密码不正确"):
        signatures.sign(session, receipt, "wang", "not-the-password", "操作")
    assert signature_count(session) == 0


def test_wrong_role_is_refused(session, signed):
    _p, receipt = signed
    with pytest.raises(PermissionDenied) as caught:
        signatures.sign(session, receipt, "zhao", PASSWORD, "复核")
    assert "生产操作员" in caught.value.message and "复核" in caught.value.message
    users.create_user(session, "admin", "管理员", PASSWORD, ["admin"])
    with pytest.raises(PermissionDenied):
        signatures.sign(session, receipt, "admin", PASSWORD, "操作")
    assert signature_count(session) == 0


def test_meaning_the_ledger_does_not_declare_is_refused(session, signed):
    _p, receipt = signed
    with pytest.raises(ValidationError, match="不需要「批准」签名"):
        signatures.sign(session, receipt, "qian", PASSWORD, "批准")
    assert signature_count(session) == 0


def test_status_lists_every_required_meaning(session, signed):
    _p, receipt = signed
    assert signatures.status(session, receipt) == [("操作", None, False), ("复核", None, False)]
    signatures.sign(session, receipt, "zhao", PASSWORD, "操作")
    signatures.sign(session, receipt, "wang", PASSWORD, "复核")
    assert [(s.meaning, s.signature.printed_name, s.valid) for s in signatures.status(session, receipt)] == [
        ("操作", "赵操作", True),
        ("复核", "王质检", True),
    ]
    assert signatures.missing(session, receipt) == []


def test_amendment_after_signing_invalidates_until_signed_again(session, signed):
    _p, receipt = signed
    signatures.sign(session, receipt, "wang", PASSWORD, "操作")
    common.amend(session, receipt, {"supplier_lot": "HLJ-2612"}, "按随货单据更正")
    assert [s.valid for s in signatures.status(session, receipt)] == [False, False]
    findings = signature_findings(session)
    assert len(findings) == 1 and "签名后记录被修改，签名失效" in findings[0] and "王质检" in findings[0]
    assert audit.verify(session.connection())[0].table_name == "signature"  # nothing else is wrong
    signatures.sign(session, receipt, "wang", PASSWORD, "操作")  # a new signature for the new content
    assert [s.valid for s in signatures.status(session, receipt)] == [True, False]
    assert signature_findings(session) == []


def test_change_outside_the_application_invalidates(session, signed):
    _p, receipt = signed
    signatures.sign(session, receipt, "wang", PASSWORD, "操作")
    session.execute(text("UPDATE incoming_inspection SET quantity = 999 WHERE id = :id"), {"id": receipt.id})
    session.expire_all()
    assert signatures.status(session, receipt)[0].valid is False
    assert any("签名失效" in message for message in signature_findings(session))


def test_signature_copied_to_another_record_is_flagged(session, signed):
    p, receipt = signed
    other = receiving.receive(session, receipt_values(p, p.sugar, supplier_lot="HLJ-9"))
    sig = signatures.sign(session, receipt, "wang", PASSWORD, "操作")
    columns = "table_name, user_id, printed_name, meaning, signed_at, content_hash, signature_hash"
    session.execute(
        text(f"INSERT INTO signature (row_id, {columns}) SELECT :other, {columns} FROM signature WHERE id = :id"),
        {"other": other.id, "id": sig.id},
    )
    copied = session.scalars(select(Signature).where(Signature.row_id == other.id)).one()
    assert signatures.status(session, other)[0] == ("操作", copied, False)
    assert signatures.status(session, receipt)[0].valid  # the original still holds
    findings = signature_findings(session)
    assert any("签名与记录不符" in message for message in findings)
    assert any(f"编号 {copied.id}" in message and "不是经本软件写入的" in message for message in findings)


def test_copy_with_recomputed_content_hash_still_fails(session, signed):
    """Rewriting content_hash to the other record's hash does not help: the
    signature hash binds the record and the content."""
    p, receipt = signed
    other = receiving.receive(session, receipt_values(p, p.sugar, supplier_lot="HLJ-9"))
    sig = signatures.sign(session, receipt, "wang", PASSWORD, "操作")
    session.execute(
        text("UPDATE signature SET row_id = :other, content_hash = :digest WHERE id = :id"),
        {"other": other.id, "digest": signatures.content_hash(session, other), "id": sig.id},
    )
    session.expire_all()
    assert signatures.status(session, session.get(IncomingInspection, other.id))[0].valid is False
    assert any("签名与记录不符" in message for message in signature_findings(session))


def test_foodarchive_verify_reports_an_invalid_signature(sqlite_url, capsys):
    engine, sessions = open_database(sqlite_url, actor=acting.system("tester"))
    with sessions.begin() as session:
        p = plant(session)
        users.create_user(session, "wang", "王质检", PASSWORD, ["inspector"])
        receipt = receiving.receive(session, receipt_values(p, p.soy))
        signatures.sign(session, receipt, "wang", PASSWORD, "操作")
    db = sqlite_url.removeprefix("sqlite:///")
    assert main(["--db", db, "verify"]) == 0
    with sessions.begin() as session:
        receipt = session.scalars(select(IncomingInspection)).one()
        common.amend(session, receipt, {"supplier_lot": "HLJ-2612"}, "按随货单据更正")
    engine.dispose()
    assert main(["--db", db, "verify"]) == 1
    assert "签名后记录被修改，签名失效" in capsys.readouterr().out


# ------------------------------------------------------------ handwriting

ZIGZAG = [[(10.0, 40.0, 0.5), (30.0, 10.0, 0.8), (50.0, 40.0, 1.0), (70.0, 12.0, 0.6)], [(20.0, 50.0, 1.0), (80.0, 52.0, 1.0)]]


def test_handwritten_image_is_kept_and_bound_to_the_signature(session, signed):
    _p, receipt = signed
    sig = signatures.sign(session, receipt, "wang", PASSWORD, "操作", strokes=signature_ink.to_json(ZIGZAG))
    assert sig.image_png.startswith(b"\x89PNG") and signature_ink.from_json(sig.strokes) == ZIGZAG
    assert audit.verify(session.connection()) == []
    # Another image put in its place no longer belongs to the signature.
    other = signature_ink.render_png([[(0.0, 0.0, 1.0), (90.0, 90.0, 1.0)]])
    session.execute(text("UPDATE signature SET image_png = :png WHERE id = :id"), {"png": other, "id": sig.id})
    session.expire_all()
    assert any("签名与记录不符" in message for message in signature_findings(session))
    assert signatures.missing(session, receipt) == ["操作", "复核"]


def test_damaged_strokes_are_refused_and_nothing_is_signed(session, signed):
    _p, receipt = signed
    with pytest.raises(UserError, match="签名笔迹数据已损坏"):
        signatures.sign(session, receipt, "wang", PASSWORD, "操作", strokes='[["x"]]')
    assert signature_count(session) == 0


def test_specimen_is_reused_only_with_the_password(session, signed):
    strokes = signature_ink.to_json(ZIGZAG)
    with pytest.raises(UserError, match="还没有保存签名样式"):
        signatures.specimen_strokes(session, "wang", PASSWORD)
    with pytest.raises(UserError, match="用户名或密码不正确"):
        signatures.save_specimen(session, "wang", "not-the-password", strokes)
    signatures.save_specimen(session, "wang", PASSWORD, strokes)
    with pytest.raises(UserError, match="用户名或密码不正确"):
        signatures.specimen_strokes(session, "wang", "not-the-password")
    assert signatures.specimen_strokes(session, "wang", PASSWORD) == strokes
    # Saving again replaces the specimen.
    signatures.save_specimen(session, "wang", PASSWORD, signature_ink.to_json(ZIGZAG[:1]))
    assert signature_ink.from_json(signatures.specimen_strokes(session, "wang", PASSWORD)) == ZIGZAG[:1]


def test_rendered_png_holds_ink_where_the_strokes_are():
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(signature_ink.render_png(ZIGZAG))).convert("L")
    width, height = image.size
    assert (width, height) == (70 + 2 * signature_ink.MARGIN, 42 + 2 * signature_ink.MARGIN)
    dark = sum(image.histogram()[:128])
    assert 0.05 < dark / (width * height) < 0.6
    # The lower-left corner is paper: the strokes do not pass there.
    assert image.getpixel((1, height - 2)) > 240
    assert Image.open(BytesIO(signature_ink.render_png(ZIGZAG, scale=3))).size == (3 * width, 3 * height)
    with pytest.raises(UserError, match="没有笔迹"):
        signature_ink.render_png([])
