"""The ORM (Qt-free). Importing this package registers every table."""

from .archive import Archive, ArchiveRecord, ArchiveSeal, Attachment, CatalogueEntry
from .base import Base
from .distribution import (
    CommodityBatch,
    Delivery,
    Destruction,
    FinishedGoodsMovement,
    Recall,
    RecallProgress,
)
from .internal_audit import CorrectiveAction, Incident, InternalAudit
from .integrity import Amendment, AuditEntry, Setting
from .master import (
    CriticalControlPoint,
    Customer,
    DutyRecord,
    Enterprise,
    Equipment,
    FormulaItem,
    Material,
    Person,
    PlatformCheck,
    ProcessStep,
    Product,
    ProductionLine,
    ProductSpec,
    Supplier,
    SupplierDocument,
    SupplierEvaluation,
    SupplierStatusChange,
    SupplierMaterial,
    TrainingRecord,
    Warehouse,
    SupplierDocumentMaterial,
)
from .production import (
    AdditiveUse,
    CCPReading,
    CleaningRecord,
    Feeding,
    IntermediateStorage,
    PackagingRecord,
    ProcessRecord,
    ProductBatch,
    SterilisationRecord,
)
from .devices import Device, ReadingAlarm, ReadingImport, ReadingProfile
from .operations import BackupRun
from .platform import OutboxEntry, UploadSchedule
from .recall import RecallCustomer, RecallScope
from .quality import Inspection, InspectionItem, InspectionStandard, RetainedSample
from .receiving import IncomingInspection, MaterialLot, StockMovement
from .safety import (
    EnvironmentReading,
    EquipmentUpkeep,
    NearExpiryHandling,
    StorageConditionRecord,
    WaterMonitoring,
    WorkshopCleanliness,
)
from .users import Signature, SignatureSpecimen, User, UserRole

from . import domains as _domains

_domains.install(Base.metadata)  # after every model: the CHECKs need their tables

__all__ = [name for name in dir() if not name.startswith("_")]
