"""What a printed volume shows, read once from the database as plain data:
the cover items, the materials (each record's fields as its ledger declares
them, its signatures, amendments and attachments) and the remarks.

Reading is kept apart from drawing (``volume.py``) so the layout works on
plain values and the benchmark can time the drawing alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select

from app.errors import UserError
from app.i18n import tr
from app.ledgers import Ledger, ledger as ledger_named, registry
from app.ledgers.choices import ARCHIVE_KIND, RETENTION
from app.models import (
    Amendment, Archive, Attachment, CommodityBatch, Enterprise, ProductBatch,
)
from app.services import anchors, audit, settings, signatures
from app.services.anchors import Head
from app.services.signatures import SignatureLine

from . import readable, reading_chart

# 类目名称 per archive kind (the class of the 全宗 the volume is filed under).
CATEGORY = {"product": "产品质量技术档案", "commodity": "商品质量技术档案",
            "warning": "食品安全警示档案", "safety": "食品安全管理档案"}
# What services.attachments takes as images (Pillow reads each of them).
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/bmp", "image/tiff", "image/webp")


@dataclass(frozen=True)
class AmendmentNote:
    field: str  # the field's label
    old: str
    new: str
    reason: str
    by: str
    at: dt.datetime


@dataclass(frozen=True)
class Scan:
    filename: str
    media_type: str
    content: bytes
    description: str
    added_by: str = ""
    added_at: dt.datetime | None = None
    late: bool = False  # attached after its record was submitted


@dataclass
class RecordData:
    number: str
    values: list[tuple[str, str, str]]  # (field name, label, shown text)
    signatures: list[SignatureLine] = field(default_factory=list)
    amendments: list[AmendmentNote] = field(default_factory=list)
    scans: list[Scan] = field(default_factory=list)
    items: list[list[str]] = field(default_factory=list)  # inspection items (检测项目 …)
    kinds: dict[str, str] = field(default_factory=dict)  # field name -> kind, for the layout
    date: dt.date | None = None


@dataclass
class MaterialData:
    seq: int
    ledger: str
    ledger_title: str
    title: str
    doc_no: str
    responsible: str
    date: dt.date | None
    records: list[RecordData]
    item_labels: list[str] = field(default_factory=list)
    # A device file's readings drawn beside its register (reading_chart.py).
    charts: list = field(default_factory=list)


@dataclass
class VolumeData:
    archive_id: int
    archive_no: str
    kind: str
    kind_label: str
    category: str
    fonds: str  # 全宗名称: the enterprise
    title: str
    first: dt.date | None
    last: dt.date | None
    retention: str
    retention_until: dt.date | None
    filing_no: str  # 归档号: the batch, lot or period the volume files
    content_hash: str
    status: str
    filer: str  # 立卷人 and 检查人 as they sealed it; empty until then
    checker: str
    filed_on: dt.date | None  # 立卷时间: the day it was sealed
    cites: tuple[str, str] | None  # (档号, 题名) of the product volume it cites
    materials: list[MaterialData]
    remarks: list[str] = field(default_factory=list)
    sealed_at: dt.datetime | None = None
    # 互见号: (档号, 题名) of the volumes this one refers to (G§5, G§46).
    cross_refs: list[tuple[str, str]] = field(default_factory=list)
    paper_signatures: bool = False  # 签名方式 纸质签名: signed in ink on the printed volume
    # The audit chain's head, printed on the remarks sheet (the paper anchor:
    # ``foodarchive verify --anchor``): as of the sealing for a sealed volume,
    # as of printing for a safety volume, none for an open volume.
    anchor: Head | None = None

    @property
    def qr_text(self) -> str:
        return f"档号:{self.archive_no};SHA256:{self.content_hash}"


# ------------------------------------------------------------------ reading


class _Refs:
    """Display texts of referenced rows, one query per (ledger, id)."""

    def __init__(self, session):
        self.session = session
        self.cache: dict[tuple[str, int], str] = {}

    def text(self, f, value) -> str:
        key = (f.lookup.ledger, value)
        if key not in self.cache:
            target = ledger_named(f.lookup.ledger)
            row = self.session.get(target.model, value)
            shown = getattr(row, f.lookup.display, None) if row is not None else None
            if shown is not None and f.lookup.display in target.field_names:
                self.cache[key] = target.field(f.lookup.display).display(shown)
            else:
                self.cache[key] = "" if shown is None else str(shown)
        return self.cache[key]


def _shown(fields: list, refs: _Refs, row) -> list[tuple[str, str, str]]:
    """(name, label, text) per field; ``fields`` from ``_plan`` (a register may
    hold thousands of rows: plain loops, no lookups by name)."""
    values = tuple(row)
    out = []
    for f, index, plain in fields:
        value = values[index]
        if value is None:
            text = ""
        elif plain:
            text = value if isinstance(value, str) else str(value)
        elif f.kind == "ref":
            text = refs.text(f, value)
        else:
            text = f.display(value)
        out.append((f.name, f.label, text))
    return out


def _plan(declaration: Ledger) -> list:
    columns = list(declaration.model.__table__.c.keys())
    return [(f, columns.index(f.name), f.kind in ("text", "longtext", "int")) for f in declaration.fields]


def _amendments(session, declaration: Ledger, table: str, ids: list[int]) -> dict[int, list[AmendmentNote]]:
    labels = {f.name: f for f in declaration.fields}
    found: dict[int, list[AmendmentNote]] = {}
    for a in session.scalars(select(Amendment).where(Amendment.table_name == table, Amendment.row_id.in_(ids))
                             .order_by(Amendment.created_at, Amendment.id)):
        f = labels.get(a.field)
        found.setdefault(a.row_id, []).append(AmendmentNote(
            f.label if f else a.field, a.old_value or "", a.new_value or "", a.reason, a.created_by, a.created_at))
    return found


def _scans(session, ledger_key: str, ids: list[int], submitted: dict[int, dt.datetime]) -> dict[int, list[Scan]]:
    """Each record's attachments in the order they were added; ``submitted``
    says when each submitted record was, so scans added later are marked."""
    found: dict[int, list[Scan]] = {}
    for a in session.scalars(select(Attachment).where(Attachment.ledger == ledger_key, Attachment.record_id.in_(ids))
                             .order_by(Attachment.id)):
        when = submitted.get(a.record_id)
        found.setdefault(a.record_id, []).append(Scan(
            a.filename, a.media_type, bytes(a.content), a.description or "", a.created_by, a.created_at,
            when is not None and a.created_at > when))
    return found


# The columns of a report's items on paper: the requirement already says the
# limit the verdict was judged against (kept as data beside it).
ITEM_COLUMNS = ("item", "method", "requirement", "result", "verdict")


def _item_fields():
    items = ledger_named("inspection_item")
    return [items.field(name) for name in ITEM_COLUMNS]


def _inspection_items(session, inspection_id: int) -> list[list[str]]:
    from app.models import InspectionItem

    shown = _item_fields()
    rows = session.scalars(select(InspectionItem).where(InspectionItem.inspection_id == inspection_id)
                           .order_by(InspectionItem.id))
    return [[f.display(getattr(row, f.name)) for f in shown] for row in rows]


def read_material(session, entry, refs: _Refs, digest=None) -> MaterialData:
    """One catalogue entry's records. The rows are read with Core (plain rows,
    no ORM objects: a register may hold thousands); ``digest`` takes in each
    row as the audit log hashes it."""
    declaration = registry()[entry.ledger]
    model, table = declaration.model, declaration.model.__table__.name
    ids = [int(i) for i in entry.record_ids.split(",") if i]
    found = session.execute(select(model.__table__).where(model.__table__.c.id.in_(ids))).all()
    by_id = {row.id: row for row in found}
    rows = [by_id[i] for i in ids if i in by_id]
    if digest is not None:
        canonical = audit.canonical_value  # the same on SQLite and PostgreSQL
        columns = list(model.__table__.c.keys())
        digest.update(repr((table, columns)).encode())
        plain = (str, int, type(None))  # bool is an int: canonical as it is
        for row in rows:
            digest.update(repr([v if type(v) in plain else canonical(v) for v in row]).encode())
    sigs = signatures.lines_of_rows(session, model, rows)
    fields = _plan(declaration)
    kinds = {f.name: f.kind for f in declaration.fields}  # one dict shared by the records
    changes = _amendments(session, declaration, table, ids)
    submitted = {row.id: row.submitted_at for row in rows if getattr(row, "submitted_at", None) is not None}
    scans = _scans(session, declaration.key, ids, submitted)
    records = []
    for line, row in enumerate(rows, 1):
        number = getattr(row, declaration.number_field) if declaration.number_field else None
        record = RecordData(
            number=str(number) if number is not None else tr("line {n}", n=line),
            values=_shown(fields, refs, row), signatures=sigs[row.id],
            amendments=changes.get(row.id, []), scans=scans.get(row.id, []),
            kinds=kinds, date=_day(row, declaration),
        )
        if entry.ledger == "inspection":
            record.items = _inspection_items(session, row.id)
        records.append(record)
    if entry.ledger == "incoming_inspection":
        _add_lot_numbers(session, records, rows)
    readable.enrich(session, declaration, rows, records)
    item_labels = [f.label for f in _item_fields()] if entry.ledger == "inspection" else []
    doc_no = entry.doc_no or (_own_numbers(records) if declaration.number_field else "")
    material = MaterialData(entry.seq, entry.ledger, declaration.title, entry.title, doc_no,
                            entry.responsible, entry.date, records, item_labels)
    if entry.ledger == "reading_import":
        material.charts = reading_chart.charts_of_imports(session, rows)
    return material


def _own_numbers(records: list[RecordData]) -> str:
    """文号: the number the item's own record is known by (a receipt's, a
    report's, a batch's), never the volume's 档号; a register of numbered
    records names its first ones."""
    numbers = [r.number for r in records]
    return "、".join(numbers[:2]) + ("等" if len(numbers) > 2 else "")


def _add_lot_numbers(session, records: list[RecordData], rows: list) -> None:
    """A receipt names the supplier's lot; the batch records name the
    factory's own lot made from it. Print both, so a reader goes from the
    issue report to the supplier's lot on paper."""
    from app.models import MaterialLot

    lots: dict[int, list[str]] = {}
    for receipt_id, lot_no in session.execute(select(MaterialLot.receipt_id, MaterialLot.lot_no).where(
            MaterialLot.receipt_id.in_([row.id for row in rows])).order_by(MaterialLot.id)):
        lots.setdefault(receipt_id, []).append(lot_no)
    for record, row in zip(records, rows):
        record.values.insert(1, ("lot_no", tr("Factory lot number"), "、".join(lots.get(row.id, []))))


def _filing_no(session, archive: Archive) -> str:
    if archive.kind == "commodity" and archive.commodity_batch_id:
        return session.get(CommodityBatch, archive.commodity_batch_id).lot_code
    if archive.product_batch_id:
        return session.get(ProductBatch, archive.product_batch_id).batch_no
    return archive.period or ""


def _amendment_lines(volume: VolumeData, after_sealing: bool) -> list[str]:
    """The amendments made before (or after) the volume was sealed, one line each."""
    sealed_at = volume.sealed_at

    def wanted(a: AmendmentNote) -> bool:
        late = sealed_at is not None and a.at > sealed_at
        return late if after_sealing else not late

    amended = [(m, r, [a for a in r.amendments if wanted(a)]) for m in volume.materials for r in m.records]
    amended = [(m, r, notes) for m, r, notes in amended if notes]
    if not amended:
        return []
    count = sum(len(notes) for _m, _r, notes in amended)
    if after_sealing:
        lines = [tr("Amended after sealing on {day} ({count} changes, each only by amendment):",
                    day=f"{sealed_at:%Y-%m-%d}", count=count)]
    else:
        lines = [tr("Amended after first entry ({count} records):", count=len(amended))]
    for material, record, notes in amended:
        for a in notes:
            lines.append(tr("  {seq}. {title} No. {number}: {field} “{old}” → “{new}” ({reason}; {by}, {at})",
                            seq=material.seq, title=material.title, number=record.number, field=a.field,
                            old=a.old, new=a.new, reason=a.reason, by=a.by, at=f"{a.at:%Y-%m-%d %H:%M}"))
    return lines


def _remarks(volume: VolumeData, session, archive: Archive) -> list[str]:
    """本卷情况说明, from the data."""
    lines = _amendment_lines(volume, after_sealing=False) + _amendment_lines(volume, after_sealing=True)
    # Signed in ink: a signature the program lacks is not missing; one that no
    # longer holds (the record changed after it was given) still is said.
    wanted = ("invalid",) if volume.paper_signatures else ("invalid", "missing")
    missing = [(m, r, s) for m in volume.materials for r in m.records for s in r.signatures if s.state in wanted]
    if missing:
        lines.append(tr("Signatures missing or no longer valid ({count}):", count=len(missing)))
        grouped: dict[tuple[int, str], dict[str, list[str]]] = {}
        for material, record, sig in missing:
            state = tr("invalid") if sig.state == "invalid" else tr("unsigned")
            grouped.setdefault((material.seq, material.title), {}).setdefault(f"{sig.meaning}{state}", []).append(
                record.number)
        sizes = {m.seq: len(m.records) for m in volume.materials}
        for (seq, title), kinds in grouped.items():
            parts = []
            for what, numbers in kinds.items():
                if len(numbers) == sizes[seq] > 1:  # every line of a register: no need to name them
                    shown = tr("every record")
                else:
                    shown = "、".join(numbers[:6]) + ("等" if len(numbers) > 6 else "")
                parts.append(tr("{what} {count} ({numbers})", what=what, count=len(numbers), numbers=shown))
            lines.append(f"  {seq}. {title}：" + "；".join(parts))
    late = [(m, r, s) for m in volume.materials for r in m.records for s in r.scans if s.late]
    if late:
        lines.append(tr("Attachments added after their record was submitted ({count}):", count=len(late)))
        for material, record, scan in late:
            lines.append(tr("  {seq}. {title} No. {number}: {name} ({by}, {at})", seq=material.seq,
                            title=material.title, number=record.number, name=scan.filename, by=scan.added_by,
                            at=f"{scan.added_at:%Y-%m-%d %H:%M}"))
    receipts = [(m, r) for m in volume.materials for r in m.records
                if m.ledger == "incoming_inspection" and not r.scans]
    if receipts:
        lines.append(tr("Scans of the original vouchers missing for {count} incoming inspections: {numbers}",
                        count=len(receipts), numbers="、".join(r.number for _m, r in receipts)))
    if volume.paper_signatures:
        lines.append(tr("Signed on paper: each required signature has a line on its page, to be signed in ink "
                        "and dated by the person who gives it."))
    if not lines:
        lines.append(tr("Complete: no amendments after first entry, every required signature present."))
    if volume.sealed_at is None:
        lines.append(tr("The archive is still open; materials may still be added."))
    if volume.anchor is not None:
        lines += anchor_lines(volume.anchor)
    return lines


def anchor_lines(anchor: Head) -> list[str]:
    """The paper anchor, as the remarks sheet prints it."""
    return [tr("Audit log head (tamper anchor): entry {entry}, {at}, {count} entries up to it.",
               entry=anchor.entry, at=anchor.at, count=anchor.count),
            tr("Hash: {hash}", hash=anchor.printed),
            tr("To check: foodarchive verify --anchor followed by this hash, or type it in the verify dialog.")]


def _cross_refs(session, archive: Archive) -> list[tuple[str, str]]:
    """互见号: the product volume a commodity or warning volume cites (G§5),
    and for a product volume the volumes of the semi-finished or
    intermediate batches fed into it (G§46: 引用半成品档案的检索表单)."""
    from app.models import Feeding

    refs = [archive.cites] if archive.cites is not None else []
    if archive.kind == "product" and archive.product_batch_id:
        sources = select(Feeding.source_batch_id).where(Feeding.batch_id == archive.product_batch_id,
                                                         Feeding.source_batch_id.is_not(None))
        refs += session.scalars(select(Archive).where(Archive.kind == "product", Archive.product_batch_id.in_(sources))
                                .order_by(Archive.archive_no))
    return [(a.archive_no, a.title) for a in refs]


def read_volume(session, archive_id: int) -> VolumeData:
    archive = session.get(Archive, archive_id)
    if archive is None:
        raise UserError(tr("Archive {id} no longer exists.", id=archive_id))
    enterprise = session.scalar(select(Enterprise).limit(1))
    refs = _Refs(session)
    # The content hash: SHA-256 over every filed row's stored values (canonical
    # as the audit log writes them: the same on SQLite and PostgreSQL), in catalogue order.
    digest = hashlib.sha256(archive.archive_no.encode())
    materials = [read_material(session, entry, refs, digest) for entry in archive.entries]
    dates = [d for d in (_dates_of(m) for m in materials) for d in d if d is not None]
    cited = archive.cites
    seal = archive.seal if archive.status == "sealed" else None
    volume = VolumeData(
        archive_id=archive.id, archive_no=archive.archive_no, kind=archive.kind,
        kind_label=ARCHIVE_KIND.get(archive.kind, archive.kind), category=CATEGORY.get(archive.kind, archive.kind),
        fonds=enterprise.name if enterprise else "", title=archive.title,
        first=min(dates) if dates else None, last=max(dates) if dates else None,
        retention=RETENTION.get(archive.retention_code, archive.retention_code),
        retention_until=archive.retention_until, filing_no=_filing_no(session, archive),
        content_hash=digest.hexdigest(), status=archive.status,
        filer=seal.filer_name if seal else "", checker=seal.checker_name if seal else "",
        filed_on=seal.sealed_at.date() if seal else None, sealed_at=seal.sealed_at if seal else None,
        cites=(cited.archive_no, cited.title) if cited is not None else None,
        materials=materials, cross_refs=_cross_refs(session, archive),
        paper_signatures=settings.paper_signatures(session),
    )
    volume.anchor = _anchor(session, archive, seal)
    volume.remarks = _remarks(volume, session, archive)
    return volume


def _anchor(session, archive: Archive, seal) -> Head | None:
    connection = session.connection()
    if seal is not None:  # the seal's own entry: a reprint shows the anchor of the first print
        return anchors.head_as_of(connection, "archive_seal", seal.id)
    if archive.kind == "safety":  # the monthly volume, printed month by month
        return anchors.head(connection)
    return None


def _dates_of(material: MaterialData) -> list[dt.date | None]:
    return [material.date, *(r.date for r in material.records)]


def _day(row, declaration: Ledger) -> dt.date | None:
    value = getattr(row, declaration.date_field) if declaration.date_field else None
    return value.date() if isinstance(value, dt.datetime) else value


def find_archive(session, number: str) -> int:
    """The archive a user names by 档号, or by a batch or lot number (its
    product archive, or its commodity archive for a lot code)."""
    text = (number or "").strip()
    found = session.scalar(select(Archive.id).where(Archive.archive_no == text))
    if found is None:
        batch = session.scalar(select(ProductBatch.id).where(ProductBatch.batch_no == text))
        if batch is not None:
            found = session.scalar(select(Archive.id).where(Archive.kind == "product", Archive.product_batch_id == batch))
    if found is None:
        lot = session.scalar(select(CommodityBatch.id).where(CommodityBatch.lot_code == text))
        if lot is not None:
            found = session.scalar(select(Archive.id).where(Archive.kind == "commodity", Archive.commodity_batch_id == lot))
    if found is None:
        found = session.scalar(select(Archive.id).where(Archive.kind == "safety", Archive.period == text))
    if found is None:
        raise UserError(tr("No archive has the archive, batch or lot number {number}.", number=text))
    return found
