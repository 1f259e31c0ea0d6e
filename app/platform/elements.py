"""Our data elements: what each message to the platform carries, built from
the records. The names here are ours; a profile maps them to the platform's
field names (the official names are not known to us, see docs/platform.md).

Decree 33 art. 12: the enterprise file. Art. 13: purchases with the Food
Safety Law art. 50 fields, factory sales with the art. 51 fields.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    CommodityBatch,
    Customer,
    Delivery,
    Enterprise,
    IncomingInspection,
    Material,
    ProductBatch,
    Recall,
    Supplier,
)

# kind -> element -> Chinese label (docs and the manual package use them).
ELEMENTS: dict[str, dict[str, str]] = {
    "enterprise": {
        "credit_code": "统一社会信用代码",
        "name": "企业名称",
        "legal_representative": "法定代表人",
        "address": "地址",
        "contact_person": "联系人",
        "phone": "联系电话",
        "licence_no": "食品生产许可证编号",
        "platform_id": "平台企业编号",
    },
    "purchase": {
        "enterprise_credit_code": "本企业统一社会信用代码",
        "receipt_no": "进货查验记录编号",
        "goods_name": "名称",
        "goods_spec": "规格",
        "quantity": "数量",
        "unit": "单位",
        "production_date": "生产日期",
        "batch_no": "批号",
        "shelf_life_days": "保质期（天）",
        "expiry_date": "到期日期",
        "receipt_date": "进货日期",
        "supplier_name": "供货者名称",
        "supplier_address": "供货者地址",
        "supplier_contact": "供货者联系人",
        "supplier_phone": "供货者联系电话",
        "supplier_credit_code": "供货者统一社会信用代码",
        "certificate_no": "合格证明编号",
        "trace_code": "追溯码",
    },
    "sale": {
        "enterprise_credit_code": "本企业统一社会信用代码",
        "delivery_no": "销售单号",
        "product_name": "名称",
        "product_spec": "规格",
        "gtin": "商品条码",
        "quantity": "数量",
        "unit": "单位",
        "production_date": "生产日期",
        "batch_no": "批号",
        "shelf_life_days": "保质期（天）",
        "expiry_date": "到期日期",
        "certificate_no": "检验合格证号",
        "sale_date": "销售日期",
        "buyer_name": "购货者名称",
        "buyer_address": "购货者地址",
        "buyer_contact": "购货者联系人",
        "buyer_phone": "购货者联系电话",
        "buyer_credit_code": "购货者统一社会信用代码",
    },
    "recall": {
        "enterprise_credit_code": "本企业统一社会信用代码",
        "recall_no": "召回编号",
        "product_name": "产品名称",
        "batch_no": "产品批号",
        "lot_codes": "商品批次",
        "started_on": "召回开始日期",
        "reason": "召回原因",
        "level": "召回级别",
        "status": "状态",
        "corrective_measures": "整改措施",
    },
}

KINDS = tuple(ELEMENTS)
# Kept as ISO dates in the outbox; a profile's date_format renders them.
DATE_ELEMENTS = frozenset({"production_date", "expiry_date", "receipt_date", "sale_date", "started_on"})


def _enterprise_code(session: Session) -> str | None:
    return session.scalar(select(Enterprise.credit_code).order_by(Enterprise.id).limit(1))


def enterprise(session: Session, row: Enterprise) -> dict:
    return {name: getattr(row, name) for name in ELEMENTS["enterprise"]}


def purchase(session: Session, row: IncomingInspection) -> dict | None:
    if row.submitted_at is None or row.decision != "accepted":
        return None  # a rejected delivery was not bought: nothing to report
    material = session.get(Material, row.material_id)
    supplier = session.get(Supplier, row.supplier_id)
    return {
        "enterprise_credit_code": _enterprise_code(session),
        "receipt_no": row.receipt_no,
        "goods_name": material.name,
        "goods_spec": row.spec or material.spec,
        "quantity": row.quantity,
        "unit": row.unit,
        "production_date": row.production_date,
        "batch_no": row.supplier_lot,
        "shelf_life_days": row.shelf_life_days,
        "expiry_date": row.expiry_date,
        "receipt_date": row.receipt_date,
        "supplier_name": supplier.name,
        "supplier_address": supplier.address,
        "supplier_contact": supplier.contact_person,
        "supplier_phone": supplier.phone,
        "supplier_credit_code": supplier.credit_code,
        "certificate_no": row.certificate_no,
        "trace_code": row.trace_code,
    }


def sale(session: Session, row: Delivery) -> dict | None:
    if row.submitted_at is None:
        return None
    commodity = session.get(CommodityBatch, row.commodity_batch_id)
    spec = commodity.spec
    product = spec.product
    customer = session.get(Customer, row.customer_id)
    return {
        "enterprise_credit_code": _enterprise_code(session),
        "delivery_no": row.delivery_no,
        "product_name": product.name,
        "product_spec": spec.spec,
        "gtin": spec.gtin,
        "quantity": row.units,
        "unit": "件",
        "production_date": commodity.production_date,
        "batch_no": commodity.lot_code,
        "shelf_life_days": product.shelf_life_days,
        "expiry_date": commodity.expiry_date,
        "certificate_no": row.certificate_no,
        "sale_date": row.sale_date,
        "buyer_name": customer.name,
        "buyer_address": customer.address,
        "buyer_contact": customer.contact_person,
        "buyer_phone": customer.phone,
        "buyer_credit_code": customer.credit_code,
    }


def recall(session: Session, row: Recall) -> dict:
    batch = session.get(ProductBatch, row.product_batch_id)
    lots = session.scalars(
        select(CommodityBatch.lot_code).where(CommodityBatch.product_batch_id == batch.id).order_by(CommodityBatch.id)
    ).all()
    return {
        "enterprise_credit_code": _enterprise_code(session),
        "recall_no": row.recall_no,
        "product_name": batch.product.name,
        "batch_no": batch.batch_no,
        "lot_codes": ",".join(lots),
        "started_on": row.started_on,
        "reason": row.reason,
        "level": row.level,
        "status": row.status,
        "corrective_measures": row.corrective_measures,
    }


# table -> (kind, builder, what the status panel calls the record)
SOURCES: dict[str, tuple[str, Callable, Callable]] = {
    "enterprise": ("enterprise", enterprise, lambda row: row.name),
    "incoming_inspection": ("purchase", purchase, lambda row: row.receipt_no),
    "delivery": ("sale", sale, lambda row: row.delivery_no),
    "recall": ("recall", recall, lambda row: row.recall_no),
}
MODELS = {"enterprise": Enterprise, "incoming_inspection": IncomingInspection, "delivery": Delivery, "recall": Recall}
