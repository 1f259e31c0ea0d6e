"""R2 ledgers (receiving, production, inspection, storage, sales, recall) and
the R3 archive ledgers (archives, catalogues, attachments, amendments)."""

from __future__ import annotations

from app.ledgers.base import register
from app.models import (
    AdditiveUse, Amendment, Archive, Attachment, CatalogueEntry, CCPReading, CleaningRecord, CommodityBatch,
    Delivery, Destruction, Feeding, FinishedGoodsMovement, IncomingInspection, Inspection, InspectionItem,
    IntermediateStorage, MaterialLot, PackagingRecord, ProcessRecord, ProductBatch, Recall, RecallCustomer, RecallProgress,
    RecallScope,
    RetainedSample, SterilisationRecord, StockMovement,
)

from . import choices as c
from . import fields as F
from . import validators as v
from .fields import (
    COMPUTED, batch, commodity, count, day, declare, flag, material, material_lot, moment, note, person, pick,
    qty, ref, submittable, text, unit, warehouse,
)

OPERATE = ("操作",)
FROM_STANDARD = "取自检验项目标准；单项判定按它自动得出"
CHECKED = ("操作", "复核")


def batch_record(model: type, fields: list, *, date: str, signs=CHECKED, group: str = "生产"):
    """A record filed in the product archive of its batch (G§20–33, G§39)."""
    return declare(model, group, [batch(), *fields], date=date, archive="product", signs=signs)


def operator(label: str = "操作人"):
    return person("operator_id", label)


def supplier_lot():
    return text("supplier_lot", "生产批号（供应商批号）", 16, True)


def production_date():
    return day("production_date", "生产日期")


def expiry_date():
    return day("expiry_date", "到期日期", required=False)


def status(choices: dict[str, str]):
    return pick("status", "状态", choices, required=False)


register(
    # --- R2.1–R2.2 receiving and the material stock ledger ------------------
    declare(IncomingInspection, "进货查验", [
        text("receipt_no", "进货查验单号", 14, True),
        material(),
        F.supplier(),
        text("spec", "规格", 12),
        qty("quantity", "数量"),
        unit(),
        production_date(),
        supplier_lot(),
        F.shelf_life(),
        expiry_date(),
        day("receipt_date", "进货日期"),
        text("certificate_kind", "合格证明类型", 14, help="第三方检验报告或企业自检报告"),
        text("certificate_no", "合格证明编号", 16),
        text("quarantine_cert_no", "检疫合格证明编号", 16),
        text("import_cert_no", "入境货物检验检疫证明编号", 16),
        text("gmo_cert_no", "农业转基因生物安全证书编号", 16),
        text("trace_code", "追溯码", 20),
        note("carried_over_additives", "带入食品添加剂的使用量和残留量"),
        note("contaminant_values", "污染物等物质含量值"),
        text("own_sample_base", "抽样基数", 10),
        text("own_sampling_method", "抽样方式", 16),
        text("own_sample_size", "样品数量", 10),
        note("own_test_summary", "检测项目、检验方法、标准要求和检验结论", width=40),
        pick("decision", "查验结论", c.RECEIPT_DECISION),
        person("inspector_id", "检验员"),
        warehouse("入库仓库"),
        *submittable(),
    # Filed in the product archive of every batch that used the lot (archives._receipt_materials).
    ], date="receipt_date", number="receipt_no", archive="product", signs=CHECKED,
        # Food Safety Law art. 50 (the supplier's address and contact follow its name), the verdict and who gave it.
        prints=("receipt_no", "material_id", "supplier_id", "spec", "quantity", "unit", "production_date",
                "supplier_lot", "shelf_life_days", "receipt_date", "certificate_no", "decision", "inspector_id")),
    declare(MaterialLot, "仓储", [
        text("lot_no", "物料批号", 14, True),
        material(),
        F.supplier(),
        ref("receipt_id", "进货查验单号", "incoming_inspection", "receipt_no", True, 14),
        supplier_lot(),
        qty("quantity_received", "进货数量"),
        qty("quantity_on_hand", "库存数量", check=v.not_negative, help=COMPUTED),
        unit(),
        production_date(),
        expiry_date(),
        status(c.MATERIAL_LOT_STATUS),
        warehouse(),
    ], title="物料批次台账", date="production_date", number="lot_no"),
    declare(StockMovement, "仓储", [
        material_lot("lot_id"),
        moment("moved_at", "出入库时间"),
        pick("kind", "出入库类别", c.STOCK_MOVEMENT_KIND),
        qty("quantity", "数量", check=None, help="入库为正数，领料出库和报损为负数"),
        qty("balance", "结存数量", check=v.not_negative, help=COMPUTED),
        batch(label="领用产品批号", required=False),
        person("handed_over_by", "发料人", required=False),
        person("received_by", "领料人", required=False),
        note("note", "摘要"),
    ], date="moved_at", signs=OPERATE),
    # --- R2.3 product batches and their records ------------------------------
    declare(ProductBatch, "生产", [
        text("batch_no", "生产批号", 14, True),
        F.product(),
        F.line(),
        text("team", "班组", 10),
        text("production_order", "生产指令单号", 14),
        production_date(),
        moment("started_at", "开始时间", required=False),
        moment("finished_at", "结束时间", required=False),
        expiry_date(),
        unit("计量单位"),
        qty("output_quantity", "产出数量", required=False, check=v.not_negative),
        qty("loss_quantity", "损耗数量", required=False, check=v.not_negative),
        note("by_products", "副产品"),
        qty("quantity_on_hand", "结存数量", required=False, check=v.not_negative, help=COMPUTED),
        status(c.BATCH_STATUS),
        person("operator_id", "生产负责人", required=False),
        *submittable(),
    ], date="production_date", number="batch_no", archive="product", signs=("操作", "复核", "批准"),
        prints=("batch_no", "product_id", "line_id", "team", "production_date", "started_at", "finished_at",
                "expiry_date", "unit", "output_quantity", "loss_quantity", "quantity_on_hand", "status", "operator_id")),
    batch_record(Feeding, [
        material_lot(required=False),
        batch("source_batch_id", "投入的半成品（中间产品）批号", required=False),
        qty("quantity", "使用数量"),
        unit(),
        text("method", "投放方式、加注方法", 16),
        moment("fed_at", "投料时间"),
        operator("投料人"),
    ], date="fed_at"),
    batch_record(CCPReading, [
        ref("ccp_id", "关键控制点", "ccp", "name", True, 16),
        moment("measured_at", "监控时间"),
        qty("value", "监测值", check=None),
        flag("deviation", "偏离关键限值", help=COMPUTED),
        note("corrective_action", "纠偏措施"),
        moment("corrected_at", "纠偏时间", required=False),
        person("corrected_by", "纠偏人", required=False),
        operator("监控人"),
    ], date="measured_at"),
    batch_record(ProcessRecord, [
        pick("kind", "记录类别", c.PROCESS_KIND),
        moment("recorded_at", "记录时间"),
        text("step", "工序", 12),
        note("description", "过程记录", required=True),
        note("parameters", "工艺参数"),
        note("measures", "采取的措施"),
        note("verification", "效果验证情况"),
        operator(),
    ], date="recorded_at"),
    declare(CleaningRecord, "生产", [
        batch(required=False),
        F.line(),
        text("area", "清场区域", 16, True),
        moment("cleaned_at", "清场时间"),
        note("checks", "检查项目及结果", required=True),
        note("agents", "清洗剂、消毒剂使用情况"),
        note("validation", "清洗验证结果", required=True),
        operator("清场人"),
    ], date="cleaned_at", archive="product", signs=CHECKED),
    batch_record(SterilisationRecord, [
        pick("method", "杀菌方法", c.STERILISATION_METHOD),
        moment("started_at", "杀菌开始时间"),
        count("duration_seconds", "杀菌时间（秒）"),
        F.temperature("temperature_c", "杀菌温度（℃）"),
        qty("pressure_mpa", "工作压力（MPa）", required=False),
        qty("wavelength_nm", "紫外线波长（nm）", required=False),
        operator(),
    ], date="started_at"),
    batch_record(IntermediateStorage, [
        moment("stored_at", "存入时间"),
        moment("removed_at", "取出时间", required=False),
        qty("quantity", "数量"),
        pick("storage_mode", "贮存方式", c.INTERMEDIATE_STORAGE_MODE),
        text("condition", "贮存条件", 16),
        operator(),
    ], date="stored_at", signs=OPERATE),
    batch_record(PackagingRecord, [
        material_lot(label="包装材料批号"),
        qty("issued", "领取数量"),
        qty("used", "使用数量", check=v.not_negative),
        qty("wasted", "损耗数量", check=v.not_negative),
        moment("recorded_at", "记录时间"),
        operator(),
    ], date="recorded_at"),
    batch_record(AdditiveUse, [
        material_lot(label="食品添加剂批号"),
        ref("feeding_id", "对应投料记录（投料时间）", "feeding", "fed_at", False, 16),
        qty("quantity", "使用量"),
        unit(),
        text("purpose", "使用目的（功能）", 12),
        moment("used_at", "投放时间"),
        operator(),
    ], date="used_at"),
    # --- R2.5 inspection and retained samples --------------------------------
    declare(Inspection, "检验", [
        text("report_no", "检验报告编号", 14, True),
        pick("kind", "检验类别", c.INSPECTION_KIND),
        batch(required=False),
        commodity(required=False),
        ref("receipt_id", "进货查验单号", "incoming_inspection", "receipt_no", False, 14),
        material(label="物料名称（进货、生产用水）", required=False),
        text("spec", "规格", 12),
        moment("sampled_at", "取样时间"),
        text("sampling_place", "取样地点", 16),
        text("sample_quantity", "抽样数量", 10),
        text("sampling_method", "抽样方法", 16),
        text("sample_base", "抽样基数", 10),
        text("process_step", "加工工序", 12),
        note("control_measures", "控制措施"),
        note("proficiency_evidence", "控制证明材料（能力验证、比对等）"),
        pick("conclusion", "检验结论", c.VERDICT),
        flag("label_check_passed", "标签符合性查验合格"),
        note("label_check_notes", "标签查验说明"),
        person("inspector_id", "检验员"),
        person("reviewer_id", "复核人", required=False),  # required for new reports by the service
        *submittable(),
    ], date="sampled_at", number="report_no", archive="product", signs=("编制", "复核", "批准"),
        signed_by={"编制": "inspector_id", "复核": "reviewer_id"},
        prints=("report_no", "kind", "batch_id", "commodity_batch_id", "receipt_id", "material_id", "spec", "sampled_at",
                "sampling_place", "sample_quantity", "conclusion", "label_check_passed", "inspector_id", "reviewer_id")),
    declare(InspectionItem, "检验", [
        ref("inspection_id", "检验报告编号", "inspection", "report_no", True, 14),
        text("item", "检测项目", 16, True),
        text("method", "检验方法", 16),
        text("requirement", "标准要求", 16),
        text("result", "检测结果", 12, True),
        pick("verdict", "单项判定", c.VERDICT),
        qty("limit_min", "判定下限", required=False, check=None, help=FROM_STANDARD),
        qty("limit_max", "判定上限", required=False, check=None, help=FROM_STANDARD),
        text("unit", "单位", 8),
        text("expected", "规定结果", 10, help=FROM_STANDARD),
    ], archive="product"),
    batch_record(RetainedSample, [
        text("name", "留样名称", 16, True),
        text("spec", "规格", 12),
        qty("quantity", "留样数量"),
        unit(),
        production_date(),
        day("kept_on", "留样日期"),
        text("location", "存放位置", 16, True),
        day("disposal_date", "处理日期"),
        person("keeper_id", "留样人"),
    ], date="kept_on", signs=OPERATE, group="检验"),
    # --- R2.4, R2.6–R2.7 commodity batches, finished goods, sales ------------
    declare(CommodityBatch, "生产", [
        text("lot_code", "商品批号", 14, True),
        batch("product_batch_id", "产品批号"),
        ref("spec_id", "规格", "product_spec", "spec", True, 12),
        text("brand", "品牌", 12),
        text("team", "班组", 10),
        moment("packed_from", "包装开始时间"),
        moment("packed_to", "包装结束时间"),
        count("units", "包装数量（件）"),
        qty("product_quantity_used", "耗用产品数量"),
        count("units_on_hand", "库存数量（件）", check=v.not_negative, help=COMPUTED),
        production_date(),
        expiry_date(),
        flag("label_checked", "标签已查验"),
        status(c.COMMODITY_STATUS),
        moment("released_at", "放行时间", required=False),
        person("released_by", "放行人", required=False),
        text("certificate_no", "检验合格证号", 14),
        operator("包装负责人"),
        *submittable(),
    ], date="production_date", number="lot_code", archive="commodity", signs=CHECKED,
        prints=("lot_code", "product_batch_id", "spec_id", "brand", "packed_from", "packed_to", "units",
                "units_on_hand", "production_date", "expiry_date", "label_checked", "status", "released_at",
                "released_by", "certificate_no")),
    declare(FinishedGoodsMovement, "仓储", [
        commodity(),
        warehouse(required=True),
        pick("kind", "出入库类别", c.GOODS_MOVEMENT_KIND),
        moment("moved_at", "出入库时间"),
        count("units", "数量（件）"),
        count("balance", "库存量（件）", check=v.not_negative, help=COMPUTED),
        text("status", "状态", 10, True),
        F.temperature("temperature_c", "库房温度（℃）"),
        F.percent("humidity_pct", "库房湿度（%RH）"),
        person("handed_over_by", "交付人"),
        text("received_by", "接收人", 10),
    ], date="moved_at", archive="commodity", signs=OPERATE),
    declare(Delivery, "出厂与销售", [
        text("delivery_no", "销售单号", 14, True),
        commodity(),
        ref("customer_id", "购货者", "customer", "name", True, 24),
        count("units", "数量（件）"),
        day("sale_date", "销售日期"),
        text("certificate_no", "检验合格证号", 14, True),
        text("confirmation_no", "交付确认单号", 14),
        flag("confirmed", "已确认交付"),
        day("confirmed_on", "确认日期", required=False),
        text("confirmed_by", "购货方签收人", 10),
        text("cold_chain", "冷链运输条件", 16),
        text("vehicle", "运输车辆", 10),
        warehouse("发货仓库"),
        person("clerk_id", "经办人"),
        *submittable(),
    ], date="sale_date", number="delivery_no", archive="commodity", signs=("编制", "审核"),
        # Food Safety Law art. 51: what was sold (its name, spec, dates follow the lot) and to whom.
        prints=("delivery_no", "commodity_batch_id", "customer_id", "units", "sale_date", "certificate_no",
                "clerk_id")),
    # --- R2.8 recall and destruction: the warning archive --------------------
    declare(Recall, "召回与销毁", [
        text("recall_no", "召回编号", 14, True),
        batch("product_batch_id", "产品批号"),
        day("started_on", "召回启动日期"),
        note("reason", "召回原因", required=True),
        text("source", "信息来源", 16),
        text("level", "召回级别", 8),
        text("query", "追溯起点", 16),
        moment("notify_by", "通知期限", required=False),
        day("finish_by", "完成期限", required=False),
        note("regulator_opinion", "监管部门处理意见"),
        note("corrective_measures", "改进措施"),
        note("unaccounted_reason", "未能追回部分的说明"),
        day("closed_on", "结束日期", required=False),
        status(c.RECALL_STATUS),
        person("manager_id", "召回负责人"),
        *submittable(),
    ], date="started_on", number="recall_no", archive="warning", signs=("编制", "批准"),
        # On paper: what was recalled, why, by when, and how it ended; the
        # trace query and the deadlines' hours stay in the file.
        prints=("recall_no", "product_batch_id", "started_on", "level", "reason", "source", "finish_by",
                "regulator_opinion", "corrective_measures", "closed_on", "status", "manager_id")),
    declare(RecallProgress, "召回与销毁", [
        ref("recall_id", "召回编号", "recall", "recall_no", True, 14),
        ref("delivery_id", "销售单号", "delivery", "delivery_no", True, 14),
        day("notified_on", "通知日期"),
        count("units_returned", "召回数量（件）", required=False, check=v.not_negative),
        day("returned_on", "退回日期", required=False),
        note("notes", "说明"),
    ], title="召回进度记录", date="notified_on", archive="warning", signs=("编制",)),
    declare(RecallScope, "召回与销毁", [
        ref("recall_id", "召回编号", "recall", "recall_no", True, 14),
        batch("product_batch_id", "产品批号"),
        commodity(required=False),
        text("number", "批号", 16, True),
        text("product", "产品", 16, True),
        qty("quantity", "数量", required=False),
        unit(),
        qty("in_stock", "召回时库存", required=False, check=v.not_negative),
    ], title="召回范围", archive="warning"),
    declare(RecallCustomer, "召回与销毁", [
        ref("recall_id", "召回编号", "recall", "recall_no", True, 14),
        ref("customer_id", "客户", "customer", "name", True, 16),
        text("name", "客户名称", 16, True),
        text("contact_person", "联系人", 8),
        text("phone", "联系电话", 12),
        text("address", "地址", 20),
        count("units_shipped", "发货数量（件）"),
        moment("notified_at", "通知时间", required=False),
        text("notified_how", "通知方式", 8),
        text("notified_by", "通知人", 8),
        day("confirmed_on", "客户确认日期", required=False),
        count("units_returned", "退回数量（件）", required=False, check=v.not_negative),
        count("units_held", "客户仍持有（件）", required=False, check=v.not_negative),
        count("units_destroyed", "客户自行销毁（件）", required=False, check=v.not_negative),
        note("notes", "说明"),
    ], title="召回客户进度", date="notified_at", archive="warning"),
    declare(Destruction, "召回与销毁", [
        ref("recall_id", "召回编号", "recall", "recall_no", False, 14),
        batch("product_batch_id", "产品批号"),
        commodity(required=False),
        moment("destroyed_at", "销毁时间"),
        text("place", "销毁地点", 20, True),
        text("method", "销毁方式", 16, True),
        count("units", "销毁数量（件）", required=False),
        qty("quantity", "销毁数量（按产品计量单位）", required=False),
        text("people", "参与销毁人员", 20, True),
        text("supervisors", "监督人员", 20),
        note("notes", "处置情况说明"),
        *submittable(),
    ], date="destroyed_at", archive="warning", signs=("编制", "批准")),
    # --- R3 archives, catalogues, attachments; R5.1 amendments ---------------
    declare(Archive, "档案", [
        text("archive_no", "档号", 20, True, help=COMPUTED),
        pick("kind", "档案类别", c.ARCHIVE_KIND),
        text("title", "案卷题名", 30, True),
        batch("product_batch_id", "产品批号", required=False),
        commodity(required=False),
        text("period", "归档期间（年-月）", 8, help="仅安全管理档案，如 2026-11"),
        ref("cites_archive_id", "引用的产品档案", "archive", "archive_no", False, 20),
        pick("retention_code", "保管期限", c.RETENTION),
        day("retention_until", "保管期满日期", required=False, help=COMPUTED),
        status(c.ARCHIVE_STATUS),
        moment("closed_at", "封卷时间", required=False),
    ], title="案卷目录", date="closed_at", number="archive_no", signs=("编制", "审核")),
    declare(CatalogueEntry, "档案", [
        ref("archive_id", "档号", "archive", "archive_no", True, 20),
        count("seq", "顺序号"),
        pick("ledger", "来源台账", c.RECORD_KIND),
        text("record_ids", "记录编号", 16, True),
        text("doc_no", "文号", 14),
        text("title", "题名", 30, True),
        text("responsible", "责任者", 12, True),
        day("date", "日期", required=False),
        count("pages", "页数", required=False),
        ],
    ),
    declare(Attachment, "档案", [
        text("filename", "文件名", 24, True),
        text("media_type", "文件类型", 12, True),
        text("sha256", "SHA-256 校验值", 20, True, help=COMPUTED),
        pick("ledger", "所属台账", c.RECORD_KIND, required=False),
        count("record_id", "所属记录", required=False),
        note("description", "说明"),
    ], number="filename"),
    declare(Amendment, "档案", [
        pick("table_name", "台账", c.RECORD_KIND),
        count("row_id", "记录号"),
        text("field", "更正项目", 14, True),
        note("old_value", "原值"),
        note("new_value", "新值"),
        note("reason", "更正原因", required=True),
    ], signs=("编制",)),
)
