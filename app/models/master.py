"""Master data (R1): enterprise, suppliers, materials, products, people, plant, customers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Recorded, Submittable, fk


class Enterprise(Recorded, Base):
    """R1.1 — the factory itself; one row."""

    __tablename__ = "enterprise"
    __label__ = "企业信息"
    name: Mapped[str]
    credit_code: Mapped[str] = mapped_column(String(18))
    licence_no: Mapped[str] = mapped_column(String(16))
    address: Mapped[str]
    legal_representative: Mapped[str | None] = mapped_column(String(40))
    quality_manager: Mapped[str | None] = mapped_column(String(40))
    contact_person: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(40))
    platform_id: Mapped[str | None] = mapped_column(String(64))
    # 全宗号: the filing unit's code in archive numbers (GB/T 9705).
    fonds_code: Mapped[str] = mapped_column(String(10), default="0001")


class SupplierDocumentMaterial(Base):
    """A material a qualification document covers (G§16(5)–(6)).

    A mapped class, not a bare association table, so that every row has an id
    and falls under the audit log like any other.
    """

    __tablename__ = "supplier_document_material"
    __label__ = "证件涵盖物料"
    __table_args__ = (UniqueConstraint("document_id", "material_id"),)
    document_id: Mapped[int] = fk("supplier_document.id")
    material_id: Mapped[int] = fk("material.id")


class Supplier(Recorded, Base):
    """R1.2 — a supplier in the qualified-supplier database (合格供方)."""

    __tablename__ = "supplier"
    __label__ = "供应商"
    name: Mapped[str] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str]
    contact_person: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(40))
    # pending, qualified, suspended, rejected: only a qualified supplier may
    # deliver. Kept by services.suppliers, which records every change.
    status: Mapped[str] = mapped_column(String(20), default="pending")
    qualified_on: Mapped[dt.date | None]
    qualified_by: Mapped[str | None] = mapped_column(String(40))
    # When the latest passing evaluation says the next one is due.
    review_due: Mapped[dt.date | None]

    documents: Mapped[list[SupplierDocument]] = relationship(back_populates="supplier")
    supplied: Mapped[list[SupplierMaterial]] = relationship(back_populates="supplier")


class SupplierMaterial(Base):
    """What a supplier supplies, with its spec and quality requirements (G§14(2))."""

    __tablename__ = "supplier_material"
    __label__ = "供应产品"
    __table_args__ = (UniqueConstraint("supplier_id", "material_id"),)
    supplier_id: Mapped[int] = fk("supplier.id")
    material_id: Mapped[int] = fk("material.id")
    spec: Mapped[str | None]
    quality_requirements: Mapped[str | None] = mapped_column(Text)

    supplier: Mapped[Supplier] = relationship(back_populates="supplied")
    material: Mapped[Material] = relationship()


class SupplierDocument(Recorded, Base):
    """A qualification document: licence, certificate, with validity and coverage."""

    __tablename__ = "supplier_document"
    __label__ = "资质证件"
    supplier_id: Mapped[int] = fk("supplier.id")
    # business_licence, food_production_licence, food_trade_licence,
    # industrial_product_licence, slaughter_certificate, other
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str | None]
    valid_from: Mapped[dt.date | None]
    valid_to: Mapped[dt.date | None]
    scope: Mapped[str | None] = mapped_column(Text)
    scan_id: Mapped[int | None] = fk("attachment.id", nullable=True)

    supplier: Mapped[Supplier] = relationship(back_populates="documents")
    covered: Mapped[list[SupplierDocumentMaterial]] = relationship()

    def covers(self, material_id: int) -> bool:
        return any(link.material_id == material_id for link in self.covered)


class PlatformCheck(Recorded, Base):
    """A check of the supplier on a third-party public platform (G§14(4), G§15)."""

    __tablename__ = "platform_check"
    __label__ = "第三方平台查证记录"
    supplier_id: Mapped[int] = fk("supplier.id")
    platform: Mapped[str]
    column_name: Mapped[str | None]
    checked_on: Mapped[dt.date]
    result: Mapped[str] = mapped_column(Text)
    screenshot_id: Mapped[int | None] = fk("attachment.id", nullable=True)
    checked_by: Mapped[str | None] = mapped_column(String(40))


class SupplierEvaluation(Submittable, Recorded, Base):
    """An admission evaluation or a periodic re-evaluation (G§14), approved
    with the quality manager's signature; locked once made."""

    __tablename__ = "supplier_evaluation"
    __label__ = "供应商评价"
    supplier_id: Mapped[int] = fk("supplier.id")
    kind: Mapped[str] = mapped_column(String(20), default="admission")  # admission, review
    evaluated_on: Mapped[dt.date]
    score: Mapped[Decimal | None]
    verdict: Mapped[str] = mapped_column(String(10), default="pass")  # pass, fail
    conclusion: Mapped[str] = mapped_column(Text)
    evaluator: Mapped[str | None] = mapped_column(String(40))
    next_due: Mapped[dt.date | None]


class SupplierStatusChange(Recorded, Base):
    """One change of a supplier's status: from what, to what, when, by whom
    and why. Written only by services.suppliers, never edited."""

    __tablename__ = "supplier_status_change"
    __label__ = "供方状态变更"
    supplier_id: Mapped[int] = fk("supplier.id")
    changed_at: Mapped[dt.datetime]
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(40))
    evaluation_id: Mapped[int | None] = fk("supplier_evaluation.id", nullable=True)


class Material(Recorded, Base):
    """R1.3 — raw material, additive, food-contact material or agricultural product."""

    __tablename__ = "material"
    __label__ = "物料"
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str]
    # raw, additive, packaging, agricultural, water
    category: Mapped[str] = mapped_column(String(20))
    spec: Mapped[str | None]
    unit: Mapped[str] = mapped_column(String(20), default="kg")
    standard: Mapped[str | None]
    is_imported: Mapped[bool] = mapped_column(default=False)
    is_gmo: Mapped[bool] = mapped_column(default=False)
    needs_quarantine: Mapped[bool] = mapped_column(default=False)
    # A bulk material is bought once and used many times: its lot keeps a
    # running ledger that closes at zero (G§18).
    is_bulk: Mapped[bool] = mapped_column(default=False)
    additive_limit: Mapped[str | None]
    shelf_life_days: Mapped[int | None]

    @property
    def is_additive(self) -> bool:
        return self.category == "additive"


class Product(Recorded, Base):
    """R1.4 — a product: finished, semi-finished or intermediate (G§3)."""

    __tablename__ = "product"
    __label__ = "产品"
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str]
    kind: Mapped[str] = mapped_column(String(20))  # finished, semi_finished, intermediate
    standard: Mapped[str | None]
    standard_content: Mapped[str | None] = mapped_column(Text)
    ingredients: Mapped[str | None] = mapped_column(Text)
    process_description: Mapped[str | None] = mapped_column(Text)
    # None: the product states no shelf life (2-year retention, G§49).
    shelf_life_days: Mapped[int | None]
    storage_condition: Mapped[str] = mapped_column(String(20), default="ambient")
    storage_range: Mapped[str | None] = mapped_column(String(40))
    brand: Mapped[str | None]
    label_image_id: Mapped[int | None] = fk("attachment.id", nullable=True)

    specs: Mapped[list[ProductSpec]] = relationship(back_populates="product", order_by="ProductSpec.id")
    formula: Mapped[list[FormulaItem]] = relationship(
        back_populates="product", order_by="FormulaItem.id", foreign_keys="FormulaItem.product_id"
    )
    steps: Mapped[list[ProcessStep]] = relationship(back_populates="product", order_by="ProcessStep.seq")
    ccps: Mapped[list[CriticalControlPoint]] = relationship(back_populates="product")


class ProductSpec(Base):
    """A pack size of a product, with its own barcode."""

    __tablename__ = "product_spec"
    __label__ = "产品规格"
    product_id: Mapped[int] = fk("product.id")
    spec: Mapped[str] = mapped_column(String(40))
    net_content: Mapped[Decimal]  # in the product's base unit (kg) per pack
    gtin: Mapped[str | None] = mapped_column(String(14))

    product: Mapped[Product] = relationship(back_populates="specs")


class FormulaItem(Base):
    """R1.5 — one line of a product's formula: a material or another product."""

    __tablename__ = "formula_item"
    __label__ = "配方"
    __table_args__ = (
        CheckConstraint("(material_id IS NULL) <> (component_product_id IS NULL)", name="one_component"),
    )
    product_id: Mapped[int] = fk("product.id")
    material_id: Mapped[int | None] = fk("material.id", nullable=True)
    component_product_id: Mapped[int | None] = fk("product.id", nullable=True)
    proportion: Mapped[Decimal]  # parts per hundred of the batch

    product: Mapped[Product] = relationship(back_populates="formula", foreign_keys=[product_id])
    material: Mapped[Material | None] = relationship()


class ProcessStep(Base):
    """R1.6 — a step of a product's process."""

    __tablename__ = "process_step"
    __label__ = "工艺步骤"
    product_id: Mapped[int] = fk("product.id")
    seq: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    # high_pressure, low_temperature, pasteurisation, uht, uv, or None
    sterilisation_method: Mapped[str | None] = mapped_column(String(20))

    product: Mapped[Product] = relationship(back_populates="steps")


class CriticalControlPoint(Base):
    """R1.6 — a CCP with its critical limits."""

    __tablename__ = "ccp"
    __label__ = "关键控制点"
    product_id: Mapped[int] = fk("product.id")
    step_id: Mapped[int | None] = fk("process_step.id", nullable=True)
    name: Mapped[str] = mapped_column(String(100))
    controlled_item: Mapped[str] = mapped_column(String(100))
    parameter: Mapped[str] = mapped_column(String(40))
    lower_limit: Mapped[Decimal | None]
    upper_limit: Mapped[Decimal | None]
    unit: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str | None] = mapped_column(String(40))
    corrective_action: Mapped[str | None] = mapped_column(Text)

    product: Mapped[Product] = relationship(back_populates="ccps")


class Person(Recorded, Base):
    """R1.7 — a member of staff."""

    __tablename__ = "person"
    __label__ = "人员"
    employee_no: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    # quality, purchasing, process, production, inspection, storage
    post: Mapped[str] = mapped_column(String(20))
    team: Mapped[str | None] = mapped_column(String(40))
    qualifications: Mapped[str | None] = mapped_column(Text)
    health_cert_no: Mapped[str | None] = mapped_column(String(40))
    health_cert_valid_to: Mapped[dt.date | None]
    active: Mapped[bool] = mapped_column(default=True)


class TrainingRecord(Recorded, Base):
    __tablename__ = "training_record"
    __label__ = "培训记录"
    person_id: Mapped[int] = fk("person.id")
    trained_on: Mapped[dt.date]
    topic: Mapped[str]
    hours: Mapped[Decimal | None]
    result: Mapped[str | None] = mapped_column(String(40))


class DutyRecord(Recorded, Base):
    """On-duty record: who worked which shift on which line (S§4(3))."""

    __tablename__ = "duty_record"
    __label__ = "在岗记录"
    person_id: Mapped[int] = fk("person.id")
    duty_date: Mapped[dt.date]
    shift: Mapped[str] = mapped_column(String(20))
    line_id: Mapped[int | None] = fk("production_line.id", nullable=True)


class ProductionLine(Base):
    __tablename__ = "production_line"
    __label__ = "生产线"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    automated: Mapped[bool] = mapped_column(default=False)


class Warehouse(Base):
    """R1.8 — a store with its storage condition and monitoring device."""

    __tablename__ = "warehouse"
    __label__ = "仓库"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # material, finished, intermediate
    storage_condition: Mapped[str] = mapped_column(String(20), default="ambient")
    temperature_min: Mapped[Decimal | None]
    temperature_max: Mapped[Decimal | None]
    humidity_max: Mapped[Decimal | None]
    monitoring_device: Mapped[str | None] = mapped_column(String(100))


class Equipment(Recorded, Base):
    __tablename__ = "equipment"
    __label__ = "设备"
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    line_id: Mapped[int | None] = fk("production_line.id", nullable=True)
    monitoring_device: Mapped[str | None] = mapped_column(String(100))


class Customer(Recorded, Base):
    """R1.9 — a buyer (购货者)."""

    __tablename__ = "customer"
    __label__ = "客户"
    name: Mapped[str] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str]
    contact_person: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str]
