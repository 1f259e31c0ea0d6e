"""Sealing archives (封卷): the checklist of what blocks it, the two people who
seal, what sealing locks, amendments after sealing on the remarks sheet,
what a product volume holds of the lots it used, sealing a period."""

from __future__ import annotations

import contextlib
import datetime as dt
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.cli import main
from app.errors import PermissionDenied, RecordLocked, UserError, ValidationError
from app.models import Archive, ArchiveSeal, Base, Feeding, IncomingInspection, MaterialLot
from app.reports.volume import print_volume
from app.services import (
    acting, archives, audit, common, distribution, entry, production, quality, sealing, users,
)
from app.services.archives import ArchiveSealed

from .builders import (
    NOW, PASSWORD, act_as, base_batch, lot, packed_commodity, plant, release_inspection, sign_archive, staff,
)


@pytest.fixture(autouse=True)
def quick_passwords(monkeypatch):
    """Argon2 at its real cost takes ≈0.5 s a hash on this machine, and these
    tests sign dozens of records: hash and verify at the lowest cost."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def factory(session):
    p = plant(session)
    return p, staff(session, p)


def kinds(session, archive) -> list[str]:
    return [b.kind for b in sealing.checklist(session, archive)]


def texts(session, archive) -> str:
    return "\n".join(b.text for b in sealing.checklist(session, archive))


def ready_base(session, p, day="2026-11-18", supplier_lot="HLJ-2611"):
    """A completed semi-finished batch whose every record is signed."""
    batch = base_batch(session, p, lot(session, p, p.soy, supplier_lot=supplier_lot), day=day)
    archive = archives.product_archive(session, batch)
    sign_archive(session, archive)
    return batch, archive


def snapshot(session) -> dict[str, int]:
    """Rows of every table (the audit log included)."""
    session.flush()
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def pdf_pages(session, archive_id: int) -> list[str]:
    out = io.BytesIO()
    print_volume(session, archive_id, out)
    return [page.extract_text() for page in PdfReader(io.BytesIO(out.getvalue())).pages]


def remarks_of(pages: list[str]) -> str:
    start = max(i for i, text in enumerate(pages) if "卷内备考表" in text)
    return "\n".join(pages[start:])


class OneSession:
    """Stands where a sessionmaker stands, on the test's one session (rolled
    back after the test): ``sessions()`` and ``sessions.begin()``."""

    def __init__(self, session):
        self.session = session

    def __call__(self):
        return contextlib.nullcontext(self.session)

    @contextlib.contextmanager
    def begin(self):
        with self.session.begin_nested():
            yield self.session


# ------------------------------------------------------------------ checklist


def test_product_checklist_blockers_appear_and_disappear(session, factory):
    p, _people = factory
    soy = lot(session, p, p.soy)
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    archive = archives.product_archive(session, batch)
    production.feed_lot(session, batch, soy, "100", operator_id=p.person.id)
    reading = production.record_ccp(session, batch, p.boil_ccp, "90", operator_id=p.person.id)
    found = sealing.checklist(session, archive)
    assert {"unfinished", "deviation", "signature"} <= {b.kind for b in found}
    assert sealing.state(session, archive) == "open"
    assert any("尚未完工" in b.text and b.ledger == "product_batch" for b in found)
    deviation = next(b for b in found if b.kind == "deviation")
    assert "煮浆" in deviation.text and (deviation.ledger, deviation.row_id) == ("ccp_reading", reading.id)
    # The receipt of the lot used is filed in the archive and needs its signatures too.
    assert f"进货查验记录「{soy.receipt.receipt_no}」缺少「操作、复核」签名" in texts(session, archive)

    production.correct_deviation(session, reading, "重新煮浆至 98 ℃", by=p.person.id)
    assert "deviation" not in kinds(session, archive)
    production.complete_batch(session, batch, "100")
    assert "unfinished" not in kinds(session, archive)
    assert sign_archive(session, archive) > 0
    assert sealing.checklist(session, archive) == [] and sealing.state(session, archive) == "ready"

    # An amendment after signing: the signatures no longer hold until signed again.
    common.amend(session, batch, {"team": "二班"}, "班组填错")
    (resign,) = sealing.checklist(session, archive)
    assert resign.kind == "resign" and "「班组」" in resign.text and resign.ledger == "product_batch"
    sign_archive(session, archive)
    assert sealing.state(session, archive) == "ready"


def test_a_finished_batch_needs_its_inspection_and_retained_sample(session, factory):
    p, _people = factory
    base, _base_archive = ready_base(session, p)
    milk = packed_commodity(session, p, base).product_batch
    archive = archives.product_archive(session, milk)
    found = texts(session, archive)
    assert "缺少成品检验报告（G§39）" in found and "缺少检验留样记录" in found
    quality.inspect(session, dict(kind="finished", batch_id=milk.id, sampled_at="2026-11-19 10:00",
                                  inspector_id=p.person.id, sample_base="200 瓶", sampling_method="随机抽样", sample_quantity="4 瓶", reviewer_id=p.reviewer.id),
                    [dict(item="蛋白质", method="GB 5009.5", requirement="≥ 2.0 g/100mL", result="2.6", verdict="pass")])
    quality.keep_sample(session, dict(batch_id=milk.id, name="原味豆浆", quantity="2", unit="瓶",
                                      production_date="2026-11-19", kept_on="2026-11-19", location="留样柜 A-1",
                                      disposal_date="2026-12-31", keeper_id=p.person.id))
    assert "record" not in kinds(session, archive)
    sign_archive(session, archive)
    assert sealing.state(session, archive) == "ready"


def test_commodity_checklist_release_delivery_and_the_cited_archive(session, factory):
    p, _people = factory
    base, _ = ready_base(session, p)
    commodity = packed_commodity(session, p, base, units=100)
    archive = archives.commodity_archive(session, commodity)
    found = texts(session, archive)
    assert "缺少合格的出厂检验报告（G§40）" in found and "尚未放行出厂" in found
    assert "引用的产品档案" in found  # the soy-milk batch has no inspection, no sample, no signatures yet
    release_inspection(session, p, commodity)
    distribution.release(session, commodity, by=p.person.id)
    found = texts(session, archive)
    assert "出厂检验" not in found and "尚未放行" not in found and "尚有 100 件未交付" in found
    first = distribution.deliver(session, commodity, p.customer, 60, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    second = distribution.deliver(session, commodity, p.customer, 40, dict(sale_date="2026-11-20", clerk_id=p.person.id))
    distribution.confirm_delivery(session, second, "QS-2", "2026-11-20", "李收货")
    found = sealing.checklist(session, archive)
    assert not any("未交付" in b.text for b in found)
    unconfirmed = next(b for b in found if "交付确认" in b.text)
    assert (unconfirmed.ledger, unconfirmed.row_id) == ("delivery", first.id)
    distribution.confirm_delivery(session, first, "QS-1", "2026-11-20", "李收货")
    # The cited product archive: inspection, retained sample, signatures.
    milk = commodity.product_batch
    quality.inspect(session, dict(kind="finished", batch_id=milk.id, sampled_at="2026-11-19 10:00",
                                  inspector_id=p.person.id, sample_base="200 瓶", sampling_method="随机抽样", sample_quantity="4 瓶", reviewer_id=p.reviewer.id),
                    [dict(item="蛋白质", method="GB 5009.5", requirement="≥ 2.0 g/100mL", result="2.6", verdict="pass")])
    quality.keep_sample(session, dict(batch_id=milk.id, name="原味豆浆", quantity="2", unit="瓶",
                                      production_date="2026-11-19", kept_on="2026-11-19", location="留样柜 A-1",
                                      disposal_date="2026-12-31", keeper_id=p.person.id))
    sign_archive(session, archives.product_archive(session, milk))
    assert "cited" not in kinds(session, archive)
    sign_archive(session, archive)
    assert sealing.state(session, archive) == "ready"


def test_warning_checklist_open_recall_and_disposal(session, factory):
    p, _people = factory
    base, _ = ready_base(session, p)
    commodity = packed_commodity(session, p, base)
    release_inspection(session, p, commodity)
    distribution.release(session, commodity, by=p.person.id)
    milk = commodity.product_batch
    recall = distribution.recall(session, milk, dict(started_on="2026-11-20", reason="胀袋", manager_id=p.person.id))
    archive = session.scalar(select(Archive).where(Archive.kind == "warning", Archive.product_batch_id == milk.id))
    found = texts(session, archive)
    assert f"召回「{recall.recall_no}」尚未结束" in found and "缺少不合格食品的处置（销毁）记录" in found
    distribution.close_recall(session, recall, regulator_opinion="同意处置方案", corrective_measures="更换包装供应商")
    distribution.destroy(session, dict(product_batch_id=milk.id, recall_id=recall.id, destroyed_at="2026-11-20 15:00",
                                       place="厂内无害化处理间", method="粉碎后无害化处理", people="王质检"))
    assert set(kinds(session, archive)) <= {"signature", "cited"}


def test_a_safety_month_waits_for_its_end_and_needs_material(session, factory):
    archives.file_safety_month(session, 2026, 11)  # the plant's today is 2026-11-20
    november = session.scalar(select(Archive).where(Archive.period == "2026-11"))
    assert "2026-11 尚未结束" in texts(session, november)
    october = archives.file_safety_month(session, 2026, 10)
    assert texts(session, october) == "档案中还没有任何材料"


# ------------------------------------------------------------------ refusals


def test_sealing_is_refused_and_changes_nothing(session, factory):
    p, people = factory
    _batch, archive = ready_base(session, p)
    blocked = archives.product_archive(session, base_batch(session, p, lot(session, p, p.soy, supplier_lot="X-2"),
                                                           day="2026-11-17"))
    person = common.create(session, "person", dict(employee_no="E009", name="周双岗", post="quality"))
    twice = [users.create_user(session, name, "周双岗", PASSWORD, [role], person_id=person.id)
             for name, role in (("zhou", "quality_manager"), ("zhou2", "technician"))]
    before = snapshot(session)

    def refused(error, match, archive_id=archive.id, other="sun", password=PASSWORD, acting_as="filer"):
        with pytest.raises(error, match=match):
            sealing.seal(session, archive_id, other_username=other, other_password=password, acting_as=acting_as)

    acting.bind(session, None)
    refused(PermissionDenied, "没有指明由谁操作")
    acting.bind(session, acting.system("tester"))
    refused(PermissionDenied, "系统账户不能封卷")
    act_as(session, people["qian"])
    refused(ValidationError, "两个不同的人", other="qian")
    refused(ValidationError, "「检查人用户名」不能为空", other=" ")
    refused(UserError, "用户名或密码不正确", password="not-the-password")
    refused(PermissionDenied, "王质检（检验员）无权封卷，不能担任检查人", other="wang")
    refused(UserError, "还不能封卷：", archive_id=blocked.id)
    act_as(session, people["wang"])  # an inspector may not seal, as 立卷人 nor as 检查人
    refused(PermissionDenied, "无权封卷", other="qian")
    refused(PermissionDenied, "无权封卷", other="qian", acting_as="checker")
    act_as(session, twice[0])  # two accounts of one person are one person
    refused(ValidationError, "两个不同的人", other="zhou2")

    assert snapshot(session) == before
    assert audit.verify(session.connection()) == []
    assert session.get(Archive, archive.id).status == "open"


# ------------------------------------------------------------------ after sealing


def test_a_sealed_archive_changes_only_by_amendment_listed_on_the_remarks_sheet(session, factory):
    p, people = factory
    batch, archive = ready_base(session, p)
    act_as(session, people["sun"])  # the technician files; the quality manager checks with the password
    seal = sealing.seal(session, archive.id, other_username="qian", other_password=PASSWORD)
    assert (seal.filer_name, seal.checker_name, seal.sealed_at) == ("孙技术", "钱经理", NOW)
    assert (archive.status, archive.closed_at, sealing.state(session, archive)) == ("sealed", NOW, "sealed")
    with pytest.raises(UserError, match="已于 2026-11-20 封卷"):
        sealing.seal(session, archive.id, other_username="qian", other_password=PASSWORD)

    # A feeding record is never "submitted"; filed in a sealed archive it is locked all the same.
    feeding = session.scalars(select(Feeding).where(Feeding.batch_id == batch.id)).one()
    savepoint = session.begin_nested()
    feeding.method = "人工投料"
    with pytest.raises(RecordLocked) as err:
        session.flush()
    assert archive.archive_no in err.value.message and "更正" in err.value.message
    savepoint.rollback()
    # Nor does a sealed archive take new material.
    before = snapshot(session)
    savepoint = session.begin_nested()
    with pytest.raises(ArchiveSealed, match="已于 2026-11-20 封卷，不能再收录"):
        production.add_record(session, "process_record", batch, dict(
            kind="processing", recorded_at="2026-11-20 17:00", description="补记", operator_id=p.person.id))
    savepoint.rollback()
    assert snapshot(session) == before

    # The amendment goes through, by the form's path as by the service.
    session.info["now"] = NOW + dt.timedelta(hours=2)
    entry.amend(session, "feeding", feeding.id, {"method": "人工投料"}, "投料方式记错")
    receipt = session.scalars(select(IncomingInspection)).one()
    common.amend(session, receipt, {"certificate_no": "R-001A"}, "合格证明编号抄错")
    assert feeding.method == "人工投料" and receipt.certificate_no == "R-001A"
    # The log holds every change; only the signatures of the changed records no longer hold.
    assert {f.table_name for f in audit.verify(session.connection())} == {"signature"}

    remarks = remarks_of(pdf_pages(session, archive.id))
    assert "封卷（2026-11-20）后的更正（共 2 处" in remarks
    assert "投料方式记错" in remarks and "合格证明编号抄错" in remarks and "2026-11-20 18:00" in remarks
    assert "孙技术" in remarks and "钱经理" in remarks  # 立卷人, 检查人 (and who amended)
    assert "立卷时间 2026-11-20" in remarks.replace("\n", " ")
    assert "tester" not in remarks and "尚未封卷" not in remarks


def test_an_open_volume_names_no_filer(session, factory):
    p, _people = factory
    _batch, archive = ready_base(session, p)
    remarks = remarks_of(pdf_pages(session, archive.id))
    assert "本卷尚未封卷" in remarks and "tester" not in remarks


def test_a_failed_inspection_of_a_sealed_batch_goes_to_its_warning_archive(session, factory):
    p, people = factory
    batch, archive = ready_base(session, p)
    act_as(session, people["qian"])
    sealing.seal(session, archive.id, other_username="sun", other_password=PASSWORD)
    report = quality.inspect(session, dict(kind="semi_finished", batch_id=batch.id, sampled_at="2026-11-20 16:00",
                                           inspector_id=p.person.id, sample_base="200 瓶", sampling_method="随机抽样", sample_quantity="4 瓶", reviewer_id=p.reviewer.id),
                             [dict(item="菌落总数", result="9E5", verdict="fail")])
    warning = session.scalar(select(Archive).where(Archive.kind == "warning", Archive.product_batch_id == batch.id))
    assert warning.cites_archive_id == archive.id
    assert any(e.ledger == "inspection" and str(report.id) in e.record_ids.split(",") for e in warning.entries)
    assert all(str(report.id) not in e.record_ids.split(",") for e in archive.entries if e.ledger == "inspection")


# ------------------------------------------------------------------ what a product volume holds


def test_the_product_volume_lists_every_lot_with_its_supplier_lot_and_receipt(session, factory):
    p, _people = factory
    soy_1 = lot(session, p, p.soy, supplier_lot="HLJ-2611")
    soy_2 = lot(session, p, p.soy, supplier_lot="KS-0917", certificate_no="R-002")
    sugar = lot(session, p, p.sugar, supplier_lot="TG-5501", certificate_no=None, certificate_kind=None,
                own_test_summary="水分 0.04 %，合格（见进货检验报告）")
    own = quality.inspect(session, dict(kind="incoming", receipt_id=sugar.receipt_id, sampled_at="2026-11-10 14:00",
                                        inspector_id=p.person.id, sample_base="200 瓶", sampling_method="随机抽样", sample_quantity="4 瓶", reviewer_id=p.reviewer.id),
                          [dict(item="水分", method="GB 5009.3", requirement="≤ 0.06 %", result="0.04", verdict="pass")])
    batch = production.start_batch(session, dict(product_id=p.base.id, production_date="2026-11-18"))
    for used, quantity in ((soy_1, "60"), (soy_2, "40"), (sugar, "5")):
        production.feed_lot(session, batch, used, quantity, operator_id=p.person.id)
    production.complete_batch(session, batch, "100")
    archive = archives.product_archive(session, batch)
    receipts = next(e for e in archive.entries if e.ledger == "incoming_inspection")
    assert receipts.title == "原辅料进货查验记录（3 个物料批次）"
    pages = pdf_pages(session, archive.id)
    assert "原辅料进货查验记录" in pages[1]  # the catalogue
    body = "\n".join(pages[2:])
    for used in (soy_1, soy_2, sugar):
        used = session.get(MaterialLot, used.id)
        for shown in (used.supplier_lot, used.lot_no, used.receipt.receipt_no, used.material.name):
            assert shown in body, shown
    assert p.supplier.name in body and "R-002" in body
    assert own.report_no in body and "进货检验报告" in body  # the factory's own test stands for the certificate (G§35)


def test_a_product_volume_cross_references_the_batches_fed_into_it(session, factory):
    p, _people = factory
    base, base_archive = ready_base(session, p)
    milk = packed_commodity(session, p, base).product_batch
    remarks = remarks_of(pdf_pages(session, archives.product_archive(session, milk).id))
    assert "互见号" in remarks and base_archive.archive_no in remarks


# ------------------------------------------------------------------ a period


def test_sealing_a_period_seals_only_the_ready_archives(session, factory):
    p, people = factory
    _a, ready = ready_base(session, p, day="2026-11-18")
    blocked = archives.product_archive(session, base_batch(session, p, lot(session, p, p.soy, supplier_lot="X-2"),
                                                           day="2026-11-17"))
    outside = archives.product_archive(session, ready_base(session, p, day="2026-11-10", supplier_lot="X-3")[0])
    first, last = dt.date(2026, 11, 17), dt.date(2026, 11, 18)
    act_as(session, people["qian"])
    checked = {row.archive_no: row.state for row in sealing.check_period(session, first, last)}
    assert checked == {ready.archive_no: "ready", blocked.archive_no: "open"}

    before = snapshot(session)
    with pytest.raises(UserError, match="用户名或密码不正确"):
        sealing.seal_period(OneSession(session), first, last, other_username="sun", other_password="wrong-password")
    assert snapshot(session) == before

    progress = []
    result = sealing.seal_period(OneSession(session), first, last, other_username="sun", other_password=PASSWORD,
                                 acting_as="checker", report=lambda done, total, text: progress.append((done, total)))
    assert [row.archive_no for row in result.sealed] == [ready.archive_no]
    assert [row.archive_no for row in result.blocked] == [blocked.archive_no] and result.blocked[0].blockers
    assert progress[-1] == (2, 2)
    seal = session.scalar(select(ArchiveSeal).where(ArchiveSeal.archive_id == ready.id))
    assert (seal.filer_name, seal.checker_name) == ("孙技术", "钱经理")
    assert (session.get(Archive, blocked.id).status, session.get(Archive, outside.id).status) == ("open", "open")
    again = sealing.seal_period(OneSession(session), *archives.month_span("2026-11"), other_username="sun",
                                other_password=PASSWORD)
    assert [row.archive_no for row in again.already] == [ready.archive_no]
    assert outside.archive_no in [row.archive_no for row in again.sealed]
    assert audit.verify(session.connection()) == []


def test_seal_archives_command(sqlite_url, capsys, monkeypatch):
    from app.db import open_database

    engine, sessions = open_database(sqlite_url, actor=acting.system("tester"))
    with sessions.begin() as session:
        p = plant(session)
        staff(session, p)
        _batch, archive = ready_base(session, p)
        number = archive.archive_no
    engine.dispose()
    db = sqlite_url.removeprefix("sqlite:///")

    def run(passwords: str, *period: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(passwords))
        return main(["--db", db, "seal-archives", *period, "--by", "qian", "--checker", "sun"])

    assert run(f"{PASSWORD}\nwrong-password\n", "--month", "2026-11") == 1
    assert capsys.readouterr().err.strip() == "错误：用户名或密码不正确"
    assert run(f"{PASSWORD}\n{PASSWORD}\n") == 1
    assert "--from" in capsys.readouterr().err
    assert run(f"{PASSWORD}\n{PASSWORD}\n", "--from", "2026-11-18", "--to", "2026-11-18") == 0
    out = capsys.readouterr().out
    assert "封卷 1 个档案（立卷人 钱经理）" in out
    engine, sessions = open_database(sqlite_url)
    with sessions() as session:
        seal = session.scalar(select(ArchiveSeal))
        assert (seal.archive.archive_no, seal.filer_name, seal.checker_name) == (number, "钱经理", "孙技术")
        assert audit.verify(session.connection()) == []
    engine.dispose()
