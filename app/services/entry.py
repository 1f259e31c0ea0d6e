"""Which service writes a record entered on a form, and how an existing one
changes. Qt-free: a RecordDialog hands these functions to the task runner,
and they run on a worker thread with the session ``AppContext.write`` opens.

Each function takes the session and plain values (what ``LedgerForm.values``
gives: codes, ids, ISO strings) and returns ids, never ORM objects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import contextmanager

from sqlalchemy import UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm import Session

from app.errors import FieldError, UserError, ValidationError
from app.i18n import lazy, tr
from app.ledgers import Ledger, ledger
from app.ledgers.fields import COMPUTED
from app.models import CommodityBatch, ProductBatch, Supplier, Warehouse
from . import common, distribution, guards, internal_audit, production, quality, receiving, safety, suppliers, users, writing

# Ledgers whose rows only a workflow creates (stock, feeding, packing, sales,
# recall, archives): the screen where that happens.
_BATCH_WORKBENCH = lazy("Batch workbench")
_RELEASE_DESK = lazy("Release desk")
_TRACE = lazy("Trace")
_RECALL = lazy("Recall desk")
_ARCHIVE_BROWSER = lazy("Archive browser")
_SUPPLIERS = lazy("Qualified supplier list")
SCREENS = {
    # Only the quality manager's signed evaluation, suspension and resumption
    # on the supplier page write these (services.suppliers).
    "supplier_evaluation": _SUPPLIERS,
    "supplier_status_change": _SUPPLIERS,
    "stock_movement": _BATCH_WORKBENCH,
    "feeding": _BATCH_WORKBENCH,
    "ccp_reading": _BATCH_WORKBENCH,
    "additive_use": _BATCH_WORKBENCH,
    "commodity_batch": _BATCH_WORKBENCH,
    "delivery": _RELEASE_DESK,
    "recall": _RECALL,
    "recall_progress": _RECALL,
    "recall_scope": _RECALL,
    "recall_customer": _RECALL,
    "destruction": _RECALL,
    "archive": _ARCHIVE_BROWSER,
    "catalogue_entry": _ARCHIVE_BROWSER,
    "archive_record": _ARCHIVE_BROWSER,
    "attachment": _ARCHIVE_BROWSER,
}
# Made as a side effect of another record; the message names that record.
MADE_WITH = {
    "material_lot": "incoming_inspection",  # an accepted or rejected receipt
    "inspection_item": "inspection",  # entered with its report
    "amendment": None,  # the Amend button of the record it corrects
}
# Fields a service sets (a supplier becomes qualified, a batch is completed):
# never typed on a form, neither when creating nor when amending. What an
# evaluation decided (verdict, dates) is changed by a new evaluation, not by
# amending the old one.
SET_BY_SERVICE = {
    "supplier": ("status", "qualified_on", "qualified_by", "review_due"),
    "supplier_evaluation": ("supplier_id", "kind", "evaluated_on", "verdict", "next_due"),
    "product_batch": ("status", "finished_at", "output_quantity", "loss_quantity", "expiry_date"),
    # The buyer's confirmation is its own action (distribution.confirm_delivery).
    "delivery": ("confirmed", "confirmation_no", "confirmed_on", "confirmed_by"),
}
# Ledgers whose records are corrected only by whoever may make them: an
# evaluation admits a supplier, so only the quality manager corrects it.
AMENDED_BY = {"supplier_evaluation": "qualify"}
# Numbers a service gives when the form leaves them empty.
AUTO_NUMBERED = {"incoming_inspection": "receipt_no", "product_batch": "batch_no", "inspection": "report_no",
                 "internal_audit": "audit_no", "incident": "incident_no", "corrective_action": "action_no"}
# Ledgers whose new rows have an entry window of their own (the ledger page's
# New opens it): a row is saved together with rows of another ledger.
ENTRY_SCREENS = frozenset({"inspection"})


def creatable(ledger_key: str) -> bool:
    """Whether a user can enter a new row of this ledger from its page."""
    return ledger_key not in SCREENS and ledger_key not in MADE_WITH


def plain_form(ledger_key: str) -> bool:
    """Whether a new row is entered on the ledger's own form — and so can be
    imported from a sheet, one row a record."""
    return creatable(ledger_key) and ledger_key not in ENTRY_SCREENS


def refusal(ledger_key: str) -> str:
    """Why a row of this ledger is not entered or edited on its form, and where it is."""
    title = _title(ledger_key)
    if ledger_key in SCREENS:
        return tr("{ledger} are entered and kept on the “{screen}” screen.", ledger=title, screen=str(SCREENS[ledger_key]))
    if ledger_key == "amendment":
        return tr("Amendments are made with the Amend button of the record they correct.")
    if ledger_key in MADE_WITH:
        return tr("{ledger} are made together with {parent}.", ledger=title, parent=_title(MADE_WITH[ledger_key]))
    return tr("An inspection report is saved together with its test items: use the inspection entry screen.")


def editable(ledger_key: str) -> bool:
    """Whether an unlocked row may be changed on its form (a locked one is amended)."""
    return ledger_key not in SCREENS and ledger_key not in MADE_WITH


def fixed_fields(ledger_key: str) -> tuple[str, ...]:
    """Fields the system keeps: computed ones and those a service sets."""
    declaration = ledger(ledger_key)
    computed = tuple(f.name for f in declaration.fields if f.help == COMPUTED)
    # A scan column names a file attached in the record window (services.attachments).
    attached = tuple(f.name for f in declaration.fields if f.lookup is not None and f.lookup.ledger == "attachment")
    return computed + SET_BY_SERVICE.get(ledger_key, ()) + attached


def auto_numbered(ledger_key: str) -> str | None:
    return AUTO_NUMBERED.get(ledger_key)


# ----------------------------------------------------------------- create


def save_new(session: Session, ledger_key: str, values: Mapping[str, object]) -> int:
    """Validate and write a new row through the service its ledger needs; its id."""
    if ledger_key == "inspection":
        saver = _inspect  # never without its items
    elif not creatable(ledger_key):
        raise UserError(refusal(ledger_key))
    else:
        saver = SAVERS.get(ledger_key, _create)
    # Empty values are left out, so the services' defaults and numbering apply.
    given = {name: value for name, value in values.items() if value is not None and value != ""}
    fixed = set(fixed_fields(ledger_key)) & set(given)
    if fixed:
        raise UserError(_fixed_message(ledger(ledger_key), fixed))
    declaration = ledger(ledger_key)
    check_unique(session, declaration, given)
    with _conflicts_as_user_errors(session):
        row = saver(session, ledger_key, given)
    return row.id


def _create(session: Session, ledger_key: str, values: dict):
    return common.create(session, ledger_key, values)


def _object(session: Session, model: type, ledger_key: str, field_name: str, values: Mapping[str, object]):
    """The row a reference field names, or a ValidationError at that field."""
    spec = ledger(ledger_key).field(field_name)
    try:
        row_id = spec.convert(values.get(field_name))
    except ValueError as exc:
        raise ValidationError.single(field_name, spec.label, f"「{spec.label}」{exc}") from None
    if row_id is None:
        raise ValidationError.single(field_name, spec.label, f"「{spec.label}」不能为空")
    return common.get_or_fail(session, model, row_id, field_name, spec.label)


def _batch_record(session: Session, ledger_key: str, values: dict):
    if ledger_key == "cleaning_record" and values.get("batch_id") is None:
        return common.create(session, ledger_key, values)  # a line cleaned between batches
    batch = _object(session, ProductBatch, ledger_key, "batch_id", values)
    return production.add_record(session, ledger_key, batch, values)


def _supplier_row(service: Callable) -> Callable:
    def save(session: Session, ledger_key: str, values: dict):
        supplier = _object(session, Supplier, ledger_key, "supplier_id", values)
        return service(session, supplier, {k: v for k, v in values.items() if k != "supplier_id"})

    return save


def _inspect(session: Session, _ledger_key: str, values: dict):
    values = dict(values)
    items = values.pop("items", None) or []
    sample = values.pop("sample", None)
    return quality.inspect(session, values, items, sample=sample)


def _goods_movement(session: Session, ledger_key: str, values: dict):
    """R2.6: a movement in the finished-goods store, with its running stock."""
    commodity = _object(session, CommodityBatch, ledger_key, "commodity_batch_id", values)
    warehouse = _object(session, Warehouse, ledger_key, "warehouse_id", values)
    checked = ledger(ledger_key).clean(dict(values, balance=0))  # every field's own check first
    rest = {k: v for k, v in values.items() if k not in ("commodity_batch_id", "warehouse_id", "kind", "units")}
    return distribution.move_goods(session, commodity, warehouse, checked["kind"], checked["units"], rest)


SAVERS: dict[str, Callable] = {
    "finished_goods_movement": _goods_movement,
    "incoming_inspection": lambda session, _key, values: receiving.receive(session, values),
    "product_batch": lambda session, _key, values: production.start_batch(session, values),
    "retained_sample": lambda session, _key, values: quality.keep_sample(session, values),
    "inspection_standard": lambda session, _key, values: quality.add_standard(session, values),
    "supplier": lambda session, _key, values: suppliers.add_supplier(session, values),
    "supplier_document": _supplier_row(suppliers.add_document),
    "platform_check": _supplier_row(suppliers.record_platform_check),
    **{key: _batch_record for key in production.BATCH_RECORD_LEDGERS},
    **{key: safety.record for key in safety.SAFETY_LEDGERS},
    # R7.4: the internal audit's own rules (findings for unmet items, due dates).
    "internal_audit": lambda session, _key, values: internal_audit.run_checklist(session, values),
    "incident": lambda session, _key, values: internal_audit.log_incident(session, values),
    "corrective_action": lambda session, _key, values: internal_audit.raise_action(session, values),
}


# ------------------------------------------------------------------ change


def amend(
    session: Session, ledger_key: str, record_id: int, changes: Mapping[str, object], reason: str | None = None,
    expected_version: int | None = None,
) -> int:
    """Change an existing row. A submitted (locked) one, or one filed in a
    sealed archive, is amended, keeping the old values, who, when and why; an
    unlocked one is updated in place (the audit log keeps the old row and,
    when given, the reason).

    ``expected_version``: the ``row_version`` the user's form was filled
    from. When someone has saved the record since, nothing is written and an
    ``EditConflict`` names who and when, with their values beside these."""
    declaration = ledger(ledger_key)
    row = session.get(declaration.model, record_id)
    if row is None:
        raise UserError(tr("This record no longer exists."))
    if expected_version is not None and getattr(row, "row_version", expected_version) != expected_version:
        raise conflict(session, declaration, row, changes)
    if ledger_key in AMENDED_BY:
        users.require(session, AMENDED_BY[ledger_key])
    fixed = set(fixed_fields(ledger_key)) & set(changes)
    if fixed:
        raise UserError(_fixed_message(declaration, fixed))
    locked = guards.lock_of(session, row) is not None or guards.sealed_in(session, declaration.key, record_id) is not None
    if not locked and not editable(ledger_key):
        raise UserError(refusal(ledger_key))
    given = {name: value for name, value in changes.items() if value is not None and value != ""}
    check_unique(session, declaration, given, exclude_id=record_id)
    try:
        with _conflicts_as_user_errors(session):
            if locked:
                common.amend(session, row, changes, reason or "")
            else:
                _update(session, declaration, row, changes, reason)
    except StaleDataError as error:
        # Another PC committed between the check above and this write: the
        # version in the UPDATE's WHERE matched nothing, so nothing was written.
        raise EditConflict(tr("{title} was changed on another computer at this very moment; your change was not "
                              "saved. Open the record again to see theirs, then make yours.",
                              title=_title(ledger_key))) from error
    return record_id


class EditConflict(UserError):
    """A save over a change someone else committed after the form was filled."""


def conflict(session: Session, declaration: Ledger, row, changes: Mapping[str, object]) -> EditConflict:
    """Who changed the record last and when (its newest audit entry), and
    for each field the user changed: the value now stored beside theirs."""
    from app.models import AuditEntry

    last = session.execute(
        select(AuditEntry.actor, AuditEntry.at)
        .where(AuditEntry.table_name == declaration.model.__table__.name, AuditEntry.row_id == row.id)
        .order_by(AuditEntry.id.desc()).limit(1)).first()
    who, when = (last.actor, last.at.strftime("%Y-%m-%d %H:%M:%S")) if last else (tr("another user"), "?")
    lines = []
    for name, yours in changes.items():
        if name not in declaration.field_names:
            continue
        spec = declaration.field(name)
        try:
            shown = spec.display(spec.convert(yours))
        except ValueError:
            shown = str(yours)
        lines.append(tr("“{label}”: {who} saved {theirs}; yours is {yours}", label=spec.label, who=who,
                        theirs=spec.display(getattr(row, name)) or "—", yours=shown or "—"))
    return EditConflict(tr("{who} changed this record ({title}) at {when}, after you opened it. To overwrite "
                           "nothing, your change was not saved:", who=who, title=declaration.title, when=when)
                        + "\n" + "\n".join(lines) + "\n" + tr("Open the record again, compare, then make your change."))


# The rules a service checks on a new row, checked again when it is changed.
RECHECKED = {
    "inspection_standard": lambda session, row: quality.check_standard(
        session, {f: getattr(row, f) for f in ledger("inspection_standard").field_names}, exclude_id=row.id),
}


def _update(session: Session, declaration: Ledger, row, changes: Mapping[str, object], reason: str | None) -> None:
    cleaned = declaration.clean(dict(changes), partial=True)
    for name, value in cleaned.items():
        setattr(row, name, value)
    if declaration.key in RECHECKED:
        with session.no_autoflush:
            RECHECKED[declaration.key](session, row)
    if reason and reason.strip():
        session.info["reason"] = reason.strip()
    try:
        session.flush()
    finally:
        session.info.pop("reason", None)


# ---------------------------------------------------------------- checks


def check_unique(session: Session, declaration: Ledger, values: Mapping[str, object], exclude_id: int | None = None) -> None:
    """A number or name another row already has is an error at its field,
    not a database failure after the fact."""
    table = declaration.model.__table__
    single = {c.name for c in table.columns if c.unique}
    single |= {
        constraint.columns.keys()[0]
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint) and len(constraint.columns) == 1
    }
    errors = []
    for name in sorted(single & set(values) & set(declaration.field_names)):
        spec = declaration.field(name)
        try:
            value = spec.convert(values[name])
        except ValueError:
            continue  # Ledger.clean reports it
        if value is None:
            continue
        query = select(declaration.model.id).where(table.c[name] == value)
        if exclude_id is not None:
            query = query.where(declaration.model.id != exclude_id)
        if session.scalar(query.limit(1)) is not None:
            errors.append(FieldError(name, spec.label, tr("“{label}” {value} is already used by another record.", label=spec.label, value=spec.display(value))))
    if errors:
        raise ValidationError(errors)


@contextmanager
def _conflicts_as_user_errors(session: Session):
    """A constraint check_unique does not know (several columns together),
    or a number another user's save took after it was checked, becomes a
    message instead of a crash dialog."""
    try:
        yield
    except IntegrityError as error:
        named = writing.conflict_message(session, error)
        if named:
            raise UserError(named) from error
        raise UserError(tr("The record conflicts with the database (a duplicate, or a reference to a record that does not exist); nothing was saved.")) from error


def _fixed_message(declaration: Ledger, names: set[str]) -> str:
    labels = "、".join(f"「{declaration.field(name).label}」" for name in sorted(names))
    return tr("{labels} are kept by the system and cannot be entered here.", labels=labels)


def _title(ledger_key: str) -> str:
    return ledger(ledger_key).title if ledger_key != "archive_record" else ledger("archive").title
