"""R1 master data (基础数据): the enterprise, qualified suppliers, materials,
products with formulas, process and CCPs, people, plant and customers."""

from __future__ import annotations

from app.ledgers.base import Field, register
from app.models import (
    CriticalControlPoint, Customer, Device, DutyRecord, Enterprise, ReadingProfile, Equipment, FormulaItem, InspectionStandard, Material,
    Person, PlatformCheck, ProcessStep, Product, ProductionLine, ProductSpec, Supplier, SupplierDocument,
    SupplierDocumentMaterial, SupplierEvaluation, SupplierMaterial, SupplierStatusChange, TrainingRecord, Warehouse,
)

from . import choices as c
from . import device_formats as d
from . import fields as F
from . import validators as v
from .fields import (
    attachment, count, day, declare, flag, line, material, moment, note, pick, product, qty, ref, submittable, text,
)

GROUP = "基础数据"



def master(model: type, fields: list, **options):
    """Master data: no archive, one navigation group; signed only where a
    decision is approved (a supplier evaluation)."""
    return declare(model, GROUP, fields, **options)


def coded(what: str, code_word: str = "编号", code_width: int = 10, name_width: int = 16):
    """The code and the name a row of master data is known by."""
    return [text("code", what + code_word, code_width, True), text("name", what + "名称", name_width, True)]


def shelf_life(help: str | None = None):
    return F.shelf_life(help)


register(
    master(Enterprise, [
        *F.party("企业名称", code_required=True),
        text("licence_no", "食品生产许可证编号", 18, True, validators=(v.food_licence,)),
        text("legal_representative", "法定代表人", 10),
        text("quality_manager", "质量负责人", 10),
        text("platform_id", "追溯平台企业编号", 16),
        text("fonds_code", "全宗号", 8, True, help="档号的第一段，默认 0001"),
    ], number="name"),
    master(Supplier, [
        *F.party("供货者名称"),
        pick("status", "供方状态", c.SUPPLIER_STATUS, required=False),
        day("qualified_on", "评定合格日期", required=False),
        text("qualified_by", "评定人", 10),
        day("review_due", "下次评价日期", required=False),
    ], title="合格供方名录", date="qualified_on", number="name", whole=True),
    master(SupplierMaterial, [
        F.supplier(),
        material(),
        text("spec", "规格", 16),
        note("quality_requirements", "质量要求"),
    ], title="供应产品清单"),
    master(SupplierDocument, [
        F.supplier(),
        pick("kind", "证件类型", c.DOCUMENT_KIND),
        text("number", "证件编号", 20, True),
        text("issuer", "发证机关", 16),
        day("valid_from", "有效期起", required=False),
        day("valid_to", "有效期至", required=False),
        note("scope", "许可范围（产品明细）"),
        attachment("scan_id", "证件扫描件"),
    ], title="供应商资质证件", date="valid_to", number="number"),
    master(SupplierDocumentMaterial, [
        ref("document_id", "证件编号", "supplier_document", "number", True, 20),
        material(),
        ],
    ),
    master(PlatformCheck, [
        F.supplier(),
        text("platform", "查证平台", 20, True),
        text("column_name", "栏目", 16),
        day("checked_on", "查询日期"),
        note("result", "查询结果", required=True),
        attachment("screenshot_id", "查询截图"),
        text("checked_by", "查询人", 10),
    ], date="checked_on"),
    master(SupplierEvaluation, [
        F.supplier(),
        pick("kind", "评价类型", c.EVALUATION_KIND),
        day("evaluated_on", "评价日期"),
        qty("score", "评分", required=False, check=v.score, help="0–100 分"),
        pick("verdict", "评价结果", c.VERDICT),
        note("conclusion", "评价结论", required=True),
        text("evaluator", "评价人", 10),
        day("next_due", "下次评价日期", required=False, help="合格的默认为评价日期后一年"),
        *submittable(),
    ], title="供应商评价记录", date="evaluated_on", signs=("批准",)),
    master(SupplierStatusChange, [
        F.supplier(),
        moment("changed_at", "变更时间"),
        pick("from_status", "原状态", c.SUPPLIER_STATUS, required=False),
        pick("to_status", "新状态", c.SUPPLIER_STATUS),
        note("reason", "变更原因", required=True),
        text("changed_by", "操作人", 10, True),
        ref("evaluation_id", "依据的评价", "supplier_evaluation", "evaluated_on", False, 11),
    ], title="供方状态变更记录", date="changed_at"),
    master(Material, [
        *coded("物料", "编码", 12, 20),
        pick("category", "物料类别", c.MATERIAL_CATEGORY),
        text("spec", "规格", 16),
        F.unit("计量单位"),
        text("standard", "执行标准", 20),
        flag("is_imported", "进口"),
        flag("is_gmo", "列入转基因目录"),
        flag("needs_quarantine", "需检疫肉类"),
        flag("is_bulk", "批量购进分量使用", help="动态台账，零库存结清"),
        text("additive_limit", "食品添加剂最大使用量", 20),
        shelf_life(),
    ], title="物料信息", number="code", whole=True),
    master(Product, [
        *coded("产品", "编码", 12, 20),
        pick("kind", "产品类型", c.PRODUCT_KIND),
        text("standard", "执行标准", 20),
        note("standard_content", "标准内容", width=40),
        note("ingredients", "配料表", width=40),
        note("process_description", "生产工艺", width=40),
        shelf_life(help="未标明保质期的留空（档案至少保存二年）"),
        pick("storage_condition", "贮存条件", c.STORAGE_CONDITION),
        text("storage_range", "贮存温度范围", 12),
        text("brand", "品牌（商标）", 12),
        attachment("label_image_id", "标签图样"),
    ], title="产品信息", number="code", whole=True,
        prints=("code", "name", "kind", "standard", "ingredients", "shelf_life_days", "storage_condition",
                "storage_range", "brand")),
    master(ProductSpec, [
        product(),
        text("spec", "规格", 12, True),
        qty("net_content", "净含量", help="每件所含产品的量，以产品的计量单位（kg）计"),
        text("gtin", "商品条码（GTIN）", 14, validators=(v.gtin,)),
    ], number="spec"),
    master(FormulaItem, [
        product(),
        material(required=False),
        product("component_product_id", "配料产品（半成品、中间产品）", required=False),
        F.percent("proportion", "配比（%）", required=True, check=v.positive),
    ], title="产品配方"),
    master(ProcessStep, [
        product(),
        count("seq", "工序序号"),
        text("name", "工序名称", 16, True),
        note("description", "工艺要求"),
        pick("sterilisation_method", "杀菌方法", c.STERILISATION_METHOD, required=False),
    ], title="工艺流程", number="name"),
    master(CriticalControlPoint, [
        product(),
        ref("step_id", "所在工序", "process_step", "name", False, 16),
        text("name", "关键控制点名称", 16, True),
        text("controlled_item", "关键控制项目", 16, True),
        text("parameter", "工艺参数", 12, True),
        qty("lower_limit", "关键限值下限", required=False, check=None),
        qty("upper_limit", "关键限值上限", required=False, check=None),
        F.unit(),
        text("frequency", "监控频率", 12),
        note("corrective_action", "纠偏措施"),
    ], number="name"),
    master(InspectionStandard, [
        product(required=False),
        material(required=False),
        pick("kind", "检验类别", c.INSPECTION_KIND),
        count("seq", "序号"),
        text("item", "检测项目", 16, True),
        text("method", "检验方法", 16),
        text("requirement", "标准要求", 20, help="留空时由上下限或规定结果生成"),
        qty("limit_min", "下限", required=False, check=None, help="数值项目的最小值（含）"),
        qty("limit_max", "上限", required=False, check=None, help="数值项目的最大值（含）"),
        text("unit", "单位", 8),
        text("expected", "规定结果", 10, help="文字判定的项目，如 未检出、阴性；与上下限只填一种"),
        text("basis", "依据标准", 16),
    ], title="检验项目标准"),  # listed in the order entered: per product and kind, item by item
    master(Person, [
        text("employee_no", "工号", 10, True),
        text("name", "姓名", 10, True),
        pick("post", "岗位", c.POST),
        text("team", "班组", 10),
        note("qualifications", "资格（职称、证书）"),
        text("health_cert_no", "健康证编号", 16),
        day("health_cert_valid_to", "健康证有效期至", required=False),
        flag("active", "在职"),
    ], title="人员信息", number="employee_no", whole=True),
    master(TrainingRecord, [
        F.person("person_id", "培训人员"),
        day("trained_on", "培训日期"),
        text("topic", "培训内容", 24, True),
        qty("hours", "学时", required=False),
        text("result", "考核结果", 10),
    ], date="trained_on"),
    master(DutyRecord, [
        F.person("person_id", "在岗人员"),
        day("duty_date", "在岗日期"),
        text("shift", "班次", 8, True),
        line(),
    ], date="duty_date"),
    master(ProductionLine, [
        *coded("生产线"),
        flag("automated", "自动化生产线"),
    ], number="code"),
    master(Warehouse, [
        *coded("仓库"),
        pick("kind", "仓库类型", c.WAREHOUSE_KIND),
        pick("storage_condition", "贮存条件", c.STORAGE_CONDITION),
        F.temperature("temperature_min", "温度下限（℃）"),
        F.temperature("temperature_max", "温度上限（℃）"),
        F.percent("humidity_max", "湿度上限（%RH）"),
        text("monitoring_device", "温湿度监控设备", 16),
    ], number="code"),
    master(Equipment, [
        *coded("设备"),
        text("model", "规格型号", 16),
        line("所属生产线"),
        text("monitoring_device", "监控设备", 16),
    ], title="设备台账", number="code"),
    master(ReadingProfile, [
        text("name", "配置名称", 16, True),
        pick("encoding", "文件编码", d.ENCODINGS),
        pick("delimiter", "分隔符", d.DELIMITERS),
        flag("decimal_comma", "小数点是逗号", help="如 3,5 表示 3.5（部分进口记录仪）"),
        count("skip_rows", "表头前的行数", required=False, check=v.not_negative, help="表头上方的说明行，如设备名、序列号"),
        text("time_column", "时间列名", 14, True),
        text("time_format", "时间格式", 14, validators=(d.check_time_format,),
             help="如 %Y/%m/%d %H:%M:%S；不填则识别常见格式"),
        Field("columns", "读数列", "longtext", True, 30, validators=(d.check_columns,),
              help="每行一列：列名=参数:单位，如 温度(°C)=温度:℃"),
    ], number="name"),
    master(Device, [
        *coded("监测设备"),
        pick("kind", "设备类型", d.DEVICE_KINDS),
        text("location", "监测位置", 16, True),
        F.warehouse(),
        ref("equipment_id", "所属设备", "equipment", "name", False, 16),
        ref("profile_id", "导入配置", "reading_profile", "name", True, 16),
        Field("limits", "报警限", "longtext", False, 24, validators=(d.check_limits,),
              help="每行一个参数：参数:下限~上限单位，如 温度:0~4℃、湿度:~75%RH"),
    ], number="code"),
    master(
        Customer,
        F.party("购货者名称", phone_required=True),
        title="购货者名录",
        number="name",
        whole=True,
    ),
)
