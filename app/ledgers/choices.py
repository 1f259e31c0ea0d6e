"""The shared vocabulary of the ledger declarations.

Choice dicts map the code stored in the database (the codes the models name
in their comments) to the Chinese label a person reads. The field
factories that use them live in fields.py.
"""

from __future__ import annotations

# --- choices -----------------------------------------------------------------

MATERIAL_CATEGORY = {
    "raw": "原料", "additive": "食品添加剂", "packaging": "食品相关产品（包装材料）", "agricultural": "食用农产品",
    "water": "生产用水",
}
PRODUCT_KIND = {"finished": "成品", "semi_finished": "半成品", "intermediate": "中间产品"}
STORAGE_CONDITION = {"ambient": "常温", "chilled": "冷藏", "frozen": "冷冻", "special": "特殊"}
WAREHOUSE_KIND = {"material": "原辅料库", "finished": "成品库", "intermediate": "半成品（中间产品）库"}
POST = {
    "quality": "质量管理", "purchasing": "采购", "process": "工艺技术", "production": "生产操作",
    "inspection": "检验", "storage": "仓储",
}
SUPPLIER_STATUS = {"pending": "待评价", "qualified": "合格供方", "suspended": "暂停供货", "rejected": "评价不合格"}
EVALUATION_KIND = {"admission": "准入评价", "review": "定期复评"}
DOCUMENT_KIND = {
    "business_licence": "营业执照", "food_production_licence": "食品生产许可证",
    "food_trade_licence": "食品经营许可证", "industrial_product_licence": "工业产品生产许可证",
    "slaughter_certificate": "定点屠宰证书", "other": "其他证明文件",
}
RECEIPT_DECISION = {"accepted": "合格接收", "rejected": "拒收"}
MATERIAL_LOT_STATUS = {"available": "可用", "rejected": "拒收", "closed": "已结清", "written_off": "已报损"}
STOCK_MOVEMENT_KIND = {"receipt": "入库", "issue": "领料出库", "write_off": "报损"}
BATCH_STATUS = {
    "open": "生产中", "completed": "已完成", "nonconforming": "不合格", "recalled": "已召回",
    "destroyed": "已销毁",
}
PROCESS_KIND = {
    "pretreatment": "前处理", "processing": "加工过程", "in_process_sampling": "过程取样检验", "rework": "返工",
    "emergency": "应急处理", "plan_change": "生产计划调整", "by_product": "副产品或耗损", "contamination": "污染物料处理",
}
STERILISATION_METHOD = {
    "high_pressure": "超高压杀菌", "low_temperature": "低温杀菌", "pasteurisation": "巴氏杀菌", "uht": "超高温杀菌",
    "uv": "紫外线杀菌",
}
INTERMEDIATE_STORAGE_MODE = {"ambient": "常温贮存", "chilled": "低温贮存", "sealed": "封闭贮存"}
INSPECTION_KIND = {
    "incoming": "进货检验", "in_process": "过程控制检验", "water": "生产用水检验", "semi_finished": "半成品检验",
    "finished": "成品检验", "release": "出厂检验",
}
VERDICT = {"pass": "合格", "fail": "不合格"}
COMMODITY_STATUS = {"packed": "已包装", "released": "已放行", "recalled": "已召回", "destroyed": "已销毁"}
GOODS_MOVEMENT_KIND = {"in": "入库", "out": "出库"}
RECALL_STATUS = {"open": "召回中", "closed": "已结束"}
ARCHIVE_KIND = {"product": "产品档案", "commodity": "商品档案", "warning": "食品安全警示档案", "safety": "安全管理档案"}
RETENTION = {"Y": "永久", "D30": "定期30年", "D10": "定期10年"}
# What an archive row stores (an old "closed" one reads as 整理中: it was never
# sealed by a 立卷人 and a 检查人), and what a screen shows: "ready" is computed.
ARCHIVE_STATUS = {"open": "整理中", "sealed": "已封卷"}
ARCHIVE_STATE = {"open": "整理中", "ready": "可封卷", "sealed": "已封卷"}
UPKEEP_KIND = {"maintenance": "维护保养", "cleaning": "清洁", "calibration": "校准"}


def _record_kinds() -> dict[str, str]:
    """Table name -> the record's Chinese name: what a catalogue entry, an
    attachment or an amendment names as its ledger, shown instead of the table."""
    from app.models import Base

    return {m.class_.__tablename__: m.class_.__label__ for m in Base.registry.mappers
            if getattr(m.class_, "__label__", None)}


RECORD_KIND = _record_kinds()
