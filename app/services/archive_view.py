"""What the archive browser reads (R3), as plain dicts: the products with
their number of batches, a page of batches with their archives (filtered in
SQL), the monthly safety archives, and one archive with its catalogue and what blocks its sealing."""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select

from app.errors import UserError
from app.i18n import tr
from app.models import Archive, CatalogueEntry, CommodityBatch, Product, ProductBatch

from . import sealing

PAGE = 200  # batches per load
KIND_ORDER = case({"product": 0, "commodity": 1, "warning": 2}, value=Archive.kind, else_=3)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def load_products(session) -> dict:
    """The products with their number of batches, and the safety archives."""
    products = session.execute(
        select(Product.id, Product.name, func.count(ProductBatch.id))
        .join(ProductBatch, ProductBatch.product_id == Product.id)
        .group_by(Product.id, Product.name).order_by(Product.name)
    ).all()
    return {"products": [{"id": i, "name": n, "count": c} for i, n, c in products],
            "safety": load_safety(session)}


def load_safety(session, pattern: str | None = None) -> list[dict]:
    stmt = select(Archive.id, Archive.archive_no, Archive.kind, Archive.period.label("label"), Archive.status).where(
        Archive.kind == "safety")
    if pattern:
        stmt = stmt.where(or_(Archive.archive_no.ilike(_like(pattern), escape="\\"),
                              Archive.period.ilike(_like(pattern), escape="\\")))
    return [dict(row._mapping) for row in session.execute(stmt.order_by(Archive.period.desc()))]


def load_batches(session, product_id: int | None = None, pattern: str | None = None, offset: int = 0) -> dict:
    """One page of batches, newest first, each with its archives."""
    stmt = select(ProductBatch.id, ProductBatch.batch_no, ProductBatch.production_date, ProductBatch.status,
                  ProductBatch.product_id, Product.name.label("product")).join(Product)
    if product_id is not None:
        stmt = stmt.where(ProductBatch.product_id == product_id)
    if pattern:
        by_archive = select(Archive.id).where(Archive.product_batch_id == ProductBatch.id,
                                              Archive.archive_no.ilike(_like(pattern), escape="\\"))
        stmt = stmt.where(or_(ProductBatch.batch_no.ilike(_like(pattern), escape="\\"), by_archive.exists()))
    stmt = stmt.order_by(Product.name, ProductBatch.production_date.desc(), ProductBatch.batch_no.desc())
    rows = [dict(r._mapping) for r in session.execute(stmt.offset(offset).limit(PAGE + 1))]
    batches, more = rows[:PAGE], len(rows) > PAGE
    archives = session.execute(
        select(Archive.id, Archive.archive_no, Archive.kind, Archive.status, Archive.product_batch_id,
               CommodityBatch.lot_code.label("label"))
        .outerjoin(CommodityBatch, and_(CommodityBatch.id == Archive.commodity_batch_id, Archive.kind == "commodity"))
        .where(Archive.product_batch_id.in_([b["id"] for b in batches]))
        .order_by(KIND_ORDER, Archive.archive_no)
    ).all()
    for batch in batches:
        batch["archives"] = [dict(a._mapping) for a in archives if a.product_batch_id == batch["id"]]
    return {"batches": batches, "more": more, "offset": offset + len(batches)}


def load_archive(session, archive_id: int) -> dict:
    archive = session.get(Archive, archive_id)
    if archive is None:
        raise UserError(tr("Archive {id} no longer exists.", id=archive_id))
    cited = archive.cites
    blockers = sealing.checklist(session, archive)
    seal = archive.seal if archive.status == "sealed" else None
    entries = session.scalars(select(CatalogueEntry).where(CatalogueEntry.archive_id == archive_id)
                              .order_by(CatalogueEntry.seq))
    return {
        "id": archive.id, "archive_no": archive.archive_no, "title": archive.title, "kind": archive.kind,
        "status": archive.status, "retention_code": archive.retention_code,
        "retention_until": archive.retention_until,
        "cites": None if cited is None else {"id": cited.id, "archive_no": cited.archive_no, "title": cited.title},
        "state": "sealed" if seal is not None else "open" if blockers else "ready",
        "blockers": [{"kind": b.kind, "label": b.label, "text": b.text, "ledger": b.ledger, "row_id": b.row_id}
                     for b in blockers],
        "seal": None if seal is None else {"filer": seal.filer_name, "checker": seal.checker_name,
                                           "sealed_at": seal.sealed_at},
        "entries": [{"seq": e.seq, "ledger": e.ledger, "record_ids": [int(i) for i in e.record_ids.split(",") if i],
                     "doc_no": e.doc_no or "", "responsible": e.responsible, "title": e.title, "date": e.date,
                     "pages": e.pages} for e in entries],
    }


def sealed_ids(session) -> set[int]:
    """Ids of the sealed archives (the tree marks them)."""
    return set(session.scalars(select(Archive.id).where(Archive.status == "sealed")))
