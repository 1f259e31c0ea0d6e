"""R2.8, R4.3, G§43: the recall desk — start a recall from a trace (its scope
frozen), tell and follow every customer, destroy what came back, record the
regulator's opinion and close with the quality manager's signature; print the
warning archive. In drill mode the same number is traced against the clock
and the drill is reported and logged instead (app.services.recall_drill).

Loads and writes go through WorkflowScreen: the worker returns a plain
snapshot, the widgets never touch the ORM.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from app.i18n import lazy, tr
from app.ledgers.choices import NOTIFY_HOW
from app.services import recall as recalls

from .attachments_panel import AttachmentsPanel
from .context import AppContext
from .dialogs import Dialogs, show_error
from .workflow_kit import (
    RED_BG, ErrorLabel, IdCombo, WorkflowScreen, action_button, date_edit, datetime_edit, fill_table, make_table,
    moment, row, select_key, selected_key,
)

log = logging.getLogger("ui.recall")

CUSTOMER_COLUMNS = (
    lazy("Customer"), lazy("Contact"), lazy("Phone"), lazy("Shipped"), lazy("Notified"), lazy("How"), lazy("Notified by"),
    lazy("Confirmed"), lazy("Returned"), lazy("Still held"), lazy("Destroyed by customer"), lazy("Effectiveness"),
)


@dataclass
class Snapshot:
    recalls: list[tuple[int, str]] = field(default_factory=list)
    people: list[tuple[int, str]] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    progress: recalls.Progress | None = None
    header: str = ""
    lots: list[tuple[int, str]] = field(default_factory=list)
    destructions: list[str] = field(default_factory=list)
    destruction_ids: list[int] = field(default_factory=list)
    archives: list[int] = field(default_factory=list)


def load(session, recall_id: int | None) -> Snapshot:
    """Everything the desk shows, as plain data (runs on a worker)."""
    from sqlalchemy import select

    from app.models import Destruction, Recall, RecallScope
    from app.services import users

    snap = Snapshot(people=users.person_choices(session), levels=list(recalls.levels(session)))
    snap.recalls = [(r.id, f"{r.recall_no}（{'召回中' if r.status == 'open' else '已结束'}）")
                    for r in session.scalars(select(Recall).order_by(Recall.id.desc()))]
    if recall_id is None and snap.recalls:
        recall_id = snap.recalls[0][0]
    record = session.get(Recall, recall_id) if recall_id else None
    if record is None:
        return snap
    snap.progress = recalls.progress(session, record.id)
    snap.header = tr("{no}: level {level}, started {started} from {query}; notify by {notify}, finish by {finish}; "
                     "{status}", no=record.recall_no, level=record.level or "—", started=record.started_on,
                     query=record.query or "—", notify=f"{record.notify_by:%Y-%m-%d %H:%M}" if record.notify_by else "—",
                     finish=record.finish_by or "—", status=tr("open") if record.status == "open" else tr("closed"))
    snap.lots = [(s.commodity_batch_id, f"{s.number} {s.product}（召回时在库 {int(s.in_stock or 0)} 件）")
                 for s in session.scalars(select(RecallScope).where(
                     RecallScope.recall_id == record.id, RecallScope.commodity_batch_id.is_not(None))
                     .order_by(RecallScope.number))]
    destroyed = list(session.scalars(select(Destruction).where(Destruction.recall_id == record.id)
                                     .order_by(Destruction.id)))
    snap.destructions = [f"{d.destroyed_at:%Y-%m-%d %H:%M} {d.place}：{d.method}，{d.units or '—'} 件（{d.people}）"
                         for d in destroyed]
    snap.destruction_ids = [d.id for d in destroyed]
    snap.archives = recalls.warning_archives(session, record.id) if record.status == "closed" else []
    return snap


def _when(value) -> str:
    if value is None:
        return ""
    return f"{value:%Y-%m-%d %H:%M}" if isinstance(value, dt.datetime) else value.isoformat()


class RecallDesk(WorkflowScreen):
    """召回与演练: one recall at a time, chosen at the top."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.snapshot = Snapshot()
        self.drill = None
        self._build()
        self.reload()

    # --------------------------------------------------------------- build

    def _build(self) -> None:
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self._start_box())
        self.chooser = IdCombo()
        self.chooser.activated.connect(lambda _index: self.reload())
        self.header = QLabel(wordWrap=True)
        self.effect = QLabel()
        self.effect.setObjectName("recallEffectiveness")
        layout.addLayout(row(tr("Recall:"), self.chooser))
        layout.addWidget(self.header)
        self.table = make_table([str(c) for c in CUSTOMER_COLUMNS], numbers=(3, 8, 9, 10, 11))
        self.table.setMinimumHeight(160)
        layout.addWidget(self.table)
        layout.addWidget(self.effect)
        layout.addWidget(self._customer_box())
        layout.addWidget(self._destroy_box())
        layout.addWidget(self._close_box())
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def _start_box(self) -> QGroupBox:
        box = QGroupBox(tr("Start a recall, or run a drill, from a trace"))
        self.number = QLineEdit(placeholderText=tr("Lot, batch, commodity lot code or delivery number; scan or type"))
        self.level = QComboBox()
        self.reason = QLineEdit(placeholderText=tr("Why the goods are recalled"))
        self.source = QLineEdit(placeholderText=tr("Source (complaint, inspection, regulator …)"))
        self.manager = IdCombo()
        self.start_error = ErrorLabel()
        self.start_button = action_button(tr("Start recall"), self.start_recall)
        self.start_button.setObjectName("startRecall")
        self.ctx.offer(self.start_button, "recall")
        self.drill_button = action_button(tr("Run drill"), self.run_drill)
        self.drill_button.setObjectName("runDrill")
        self.drill_save = action_button(tr("Save drill report…"), self.save_drill)
        self.drill_save.setEnabled(False)
        self.drill_result = QLabel(wordWrap=True)
        self.drill_result.setObjectName("drillResult")
        form = QVBoxLayout(box)
        form.addLayout(row(tr("Number:"), self.number, stretch=False))
        form.addLayout(row(tr("Level:"), self.level, tr("Reason:"), self.reason, stretch=False))
        form.addLayout(row(tr("Source:"), self.source, tr("Person in charge:"), self.manager, self.start_button,
                           stretch=False))
        form.addLayout(row(self.drill_button, self.drill_save, self.drill_result))
        form.addWidget(self.start_error)
        return box

    def _customer_box(self) -> QGroupBox:
        box = QGroupBox(tr("Selected customer"))
        self.notified_at = datetime_edit()
        self.how = QComboBox(editable=True)
        self.how.addItems(list(NOTIFY_HOW))
        self.notified_by = QLineEdit(placeholderText=tr("Who told them"))
        self.confirmed_on = date_edit()
        self.returned, self.held, self.destroyed = (QLineEdit("0") for _ in range(3))
        self.customer_error = ErrorLabel()
        form = QVBoxLayout(box)
        form.addLayout(row(tr("Notified at:"), self.notified_at, tr("How:"), self.how, tr("By:"), self.notified_by,
                           action_button(tr("Record notice"), self.notify)))
        form.addLayout(row(tr("Confirmed on:"), self.confirmed_on, action_button(tr("Record confirmation"), self.confirm)))
        form.addLayout(row(tr("Returned:"), self.returned, tr("Still held:"), self.held,
                           tr("Destroyed by customer:"), self.destroyed, action_button(tr("Record quantities"), self.account)))
        form.addWidget(self.customer_error)
        return box

    def _destroy_box(self) -> QGroupBox:
        box = QGroupBox(tr("Destruction of returned and in-stock goods"))
        self.lot = IdCombo()
        self.destroyed_at = datetime_edit()
        self.place, self.method, self.people, self.supervisors, self.units = (QLineEdit() for _ in range(5))
        self.destroy_error = ErrorLabel()
        self.destruction_list = QLabel(wordWrap=True)
        form = QFormLayout(box)
        form.addRow(tr("Commodity lot:"), self.lot)
        form.addRow(tr("Time:"), self.destroyed_at)
        form.addRow(tr("Place:"), self.place)
        form.addRow(tr("Method:"), self.method)
        form.addRow(tr("People:"), self.people)
        form.addRow(tr("Supervising officials:"), self.supervisors)
        form.addRow(tr("Units:"), self.units)
        form.addRow("", action_button(tr("Record destruction"), self.destroy))
        form.addRow(self.destroy_error)
        form.addRow(self.destruction_list)
        # Photos of the latest destruction (R3.6 attachments, as on its record).
        self.photos = AttachmentsPanel(self.ctx, "destruction", None)
        form.addRow(self.photos)
        return box

    def _close_box(self) -> QGroupBox:
        box = QGroupBox(tr("Regulator's opinion and close"))
        self.opinion, self.measures, self.unaccounted = QLineEdit(), QLineEdit(), QLineEdit()
        self.username = QLineEdit(placeholderText=tr("Quality manager's user name"))
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password, placeholderText=tr("Password"))
        self.close_error = ErrorLabel()
        self.close_button = action_button(tr("Sign and close the recall"), self.close_recall)
        self.close_button.setObjectName("closeRecall")
        self.print_button = action_button(tr("Print the warning archive…"), self.print_archive)
        self.print_button.setObjectName("printWarning")
        self.print_button.setEnabled(False)
        self.note = QLabel()
        form = QFormLayout(box)
        form.addRow(tr("Regulator's opinion:"), self.opinion)
        form.addRow(tr("Corrective measures:"), self.measures)
        form.addRow(tr("Why some goods are not accounted for:"), self.unaccounted)
        form.addRow(tr("Signed by:"), row(self.username, self.password, self.close_button, stretch=False))
        form.addRow(self.close_error)
        form.addRow("", row(self.print_button, self.note))
        return box

    # ---------------------------------------------------------- snapshots

    def current_key(self):
        return self.chooser.current_id()

    def load_snapshot(self, session, key) -> Snapshot:
        return load(session, key)

    def show_snapshot(self, snap: Snapshot) -> None:
        self.snapshot = snap
        if self.level.count() == 0:
            self.level.addItems(snap.levels)
        if self.manager.count() == 0:
            self.manager.set_rows(snap.people)
        current = snap.progress.recall_id if snap.progress else None
        self.chooser.set_rows(snap.recalls)
        if current is not None:
            self.chooser.select_id(current)  # the recall just started or chosen, not the one shown before
        self.header.setText(snap.header or tr("No recall yet: trace a number and start one."))
        progress = snap.progress
        customers = progress.customers if progress else []
        fill_table(self.table, [[
            c.name, c.contact_person, c.phone, str(c.shipped), _when(c.notified_at), c.notified_how, c.notified_by,
            _when(c.confirmed_on), str(c.returned), str(c.held), str(c.destroyed), recalls.percent(c.effectiveness),
        ] for c in customers], keys=[c.id for c in customers],
            backgrounds=[RED_BG if c.silent else None for c in customers],
            tooltips=[tr("Silent past the notice deadline") if c.silent else None for c in customers])
        if customers and selected_key(self.table) is None:
            select_key(self.table, customers[0].id)
        silent = sum(1 for c in customers if c.silent)
        self.effect.setText(tr("Effectiveness: {accounted} of {shipped} units accounted for ({rate}); "
                               "{silent} customers silent past the deadline",
                               accounted=progress.accounted, shipped=progress.shipped,
                               rate=recalls.percent(progress.effectiveness), silent=silent) if progress else "")
        self.lot.set_rows(snap.lots)
        self.destruction_list.setText("\n".join(snap.destructions))
        latest = snap.destruction_ids[-1] if snap.destruction_ids else None
        if latest != self.photos.record_id:
            self.photos.set_record(latest)
        self.print_button.setEnabled(bool(snap.archives))

    # -------------------------------------------------------------- writes

    def start_from(self, number: str) -> None:
        """Called from the trace view: the number is filled in, the rest is the user's."""
        self.number.setText(number)
        self.reason.setFocus()

    def start_recall(self) -> None:
        number, values = self.number.text().strip(), dict(
            level=self.level.currentText(), reason=self.reason.text().strip(), source=self.source.text().strip(),
            manager_id=self.manager.current_id())
        self.submit(lambda s: recalls.start(s, number, values).id, self.start_error, next_key=lambda new_id: new_id)

    def _customer_write(self, write) -> None:
        key = selected_key(self.table)
        if key is None:
            self.customer_error.show_message(tr("Choose a customer in the table first."))
            self.failed.emit(self.customer_error.text())
            return
        self.submit(lambda s: write(s, key), self.customer_error)

    def notify(self) -> None:
        at, how, by = moment(self.notified_at), self.how.currentText(), self.notified_by.text()
        self._customer_write(lambda s, key: recalls.notify(s, key, at, how, by))

    def confirm(self) -> None:
        on = self.confirmed_on.date().toPython()
        self._customer_write(lambda s, key: recalls.confirm(s, key, on))

    def account(self) -> None:
        returned, held, destroyed = self.returned.text(), self.held.text(), self.destroyed.text()
        self._customer_write(lambda s, key: recalls.account(s, key, returned=returned, held=held, destroyed=destroyed))

    def destroy(self) -> None:
        recall_id = self.current_key()
        values = dict(commodity_batch_id=self.lot.current_id(), destroyed_at=moment(self.destroyed_at),
                      place=self.place.text(), method=self.method.text(), people=self.people.text(),
                      supervisors=self.supervisors.text(), units=self.units.text() or None)
        self.submit(lambda s: recalls.destroy(s, recall_id, values).id, self.destroy_error)

    def close_recall(self) -> None:
        recall_id = self.current_key()
        kwargs = dict(regulator_opinion=self.opinion.text(), corrective_measures=self.measures.text(),
                      unaccounted_reason=self.unaccounted.text(), username=self.username.text().strip(),
                      password=self.password.text())
        self.submit(lambda s: recalls.close(s, recall_id, **kwargs), self.close_error,
                    on_success=self.password.clear)

    # --------------------------------------------------------------- drill

    def run_drill(self) -> None:
        """Drill mode: the clock runs from here until the affected set, the
        customers and the mass balance are complete; the drill is logged."""
        from app.services import recall_drill

        number = self.number.text().strip()
        self.drill_result.setText(tr("Drill running…"))
        task = self.ctx.write(lambda s: recall_drill.run(s, number))
        self.ctx.runner.run(task, lambda drill: isValid(self) and self._drilled(drill),
                            lambda error: isValid(self) and self._drill_failed(error))

    def _drilled(self, drill) -> None:
        self.drill = drill
        self.drill_save.setEnabled(True)
        self.drill_result.setText(tr("Drill {no}: {summary}; {verdicts}", no=drill.audit_no, summary=drill.summary(),
                                     verdicts="；".join(drill.verdicts())))

    def _drill_failed(self, error: BaseException) -> None:
        from app.errors import UserError

        self.drill_result.setText("")
        if isinstance(error, UserError):
            self.start_error.show_message(error.message)
        else:
            show_error(self, error)

    def save_drill(self) -> None:
        if self.drill is None:
            return
        path = Dialogs.save_file(self, tr("Save drill report"), "drill.pdf", tr("PDF files (*.pdf)"))
        if not path:
            return
        from app.reports.recall_drill import write

        drill, folder = self.drill, str(Path(path).parent)

        def task(_progress):
            with self.ctx.read() as session:
                return write(session, drill, folder)

        self.ctx.runner.run(task, lambda written: isValid(self) and self.drill_result.setText(
            tr("Saved {pdf} and {xlsx}", pdf=str(written.pdf), xlsx=str(written.xlsx))),
            lambda error: isValid(self) and show_error(self, error))

    # ------------------------------------------------------------- archive

    def print_archive(self) -> None:
        if not self.snapshot.archives:
            return
        path = Dialogs.save_file(self, tr("Print the warning archive"), "warning.pdf", tr("PDF files (*.pdf)"))
        if not path:
            return
        from app.reports.volume import print_volume

        archive_ids = list(self.snapshot.archives)

        def task(_progress):
            written = []
            for index, archive_id in enumerate(archive_ids):
                target = path if index == 0 else str(Path(path).with_stem(f"{Path(path).stem}-{index + 1}"))
                with self.ctx.read() as session:
                    print_volume(session, archive_id, target)
                written.append(target)
            return written

        self.ctx.runner.run(task, lambda written: isValid(self) and self.note.setText(
            tr("Saved to {path}", path="、".join(written))), lambda error: isValid(self) and show_error(self, error))
