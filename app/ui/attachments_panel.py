"""The files attached to one record (R3.6): thumbnails, add by file dialog
or by dropping files on the panel, open in the system's viewer, describe,
remove where the retention rules allow.

Files are read, checked and stored on the task runner
(``services.attachments.attach_paths``), thumbnails drawn there too; the
panel only shows plain data. A refused file is named with its reason in red
in the panel; the good files of the same drop are attached.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.i18n import tr
from app.services import attachments
from app.services.attachments import AttachmentInfo

from .context import AppContext
from .dialogs import Dialogs, show_error
from .workflow_kit import ErrorLabel, WorkflowScreen

log = logging.getLogger("ui")

ICON = QSize(96, 96)
NAME_SHOWN = 16  # characters of a file name under its thumbnail
FILE_FILTER = "图片或 PDF (*.pdf *.png *.jpg *.jpeg *.tif *.tiff *.bmp *.gif *.webp);;所有文件 (*)"
DROP_STYLE = "border: 2px dashed #1a73e8; background: #eef4fd;"
EMPTY_STYLE = "border: 1px dashed #9aa0a6; border-radius: 3px; color: #5f6368;"


def open_externally(path: Path) -> bool:
    """Hand a file to the system's viewer (a seam tests replace)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


@dataclass(frozen=True)
class PanelKey:
    record_id: int | None
    refused: tuple[str, ...] = ()  # messages of the files the last add refused


@dataclass
class PanelSnapshot:
    record_id: int | None
    items: list[AttachmentInfo] = field(default_factory=list)
    pictures: dict[int, tuple[bytes | None, int]] = field(default_factory=dict)
    refused: tuple[str, ...] = ()
    limit_mb: int = 0


class AttachmentsPanel(WorkflowScreen):
    """``AttachmentsPanel(ctx, "supplier_document", record_id)``; ``changed``
    follows every successful add, description or removal."""

    def __init__(self, ctx: AppContext, ledger_key: str, record_id: int | None = None,
                 parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.setObjectName("attachmentsPanel")
        self.ledger_key = ledger_key
        self.record_id = record_id
        self.items: list[AttachmentInfo] = []
        self.setAcceptDrops(True)

        self.title = QLabel(tr("Attachments"))
        self.hint = QLabel()
        self.hint.setObjectName("attachmentHint")
        self.hint.setStyleSheet("color: #5f6368;")
        self.hint.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("attachmentList")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setIconSize(ICON)
        self.list.setGridSize(QSize(ICON.width() + 40, ICON.height() + 44))
        self.list.setWordWrap(True)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.NoDragDrop)
        self.list.setAcceptDrops(False)  # drops go to the panel
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setFixedHeight(ICON.height() + 64)
        # Where the list stands while there is nothing in it: a drop target, not an empty box.
        self.empty = QLabel()
        self.empty.setObjectName("attachmentEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setMinimumHeight(48)
        self.empty.setStyleSheet(EMPTY_STYLE)
        self.list.itemDoubleClicked.connect(lambda _item: self.open_selected())
        self.list.currentRowChanged.connect(lambda _row: self._update_buttons())

        self.description = QLineEdit()
        self.description.setObjectName("attachmentDescription")
        self.description.setPlaceholderText(tr("Description of the files added next (optional)"))
        self.add_button = QPushButton(tr("Add files…"))
        self.open_button = QPushButton(tr("Open"))
        self.describe_button = QPushButton(tr("Edit description…"))
        self.remove_button = QPushButton(tr("Remove…"))
        for button, slot in ((self.add_button, self.choose_files), (self.open_button, self.open_selected),
                             (self.describe_button, self.describe_selected), (self.remove_button, self.remove_selected)):
            button.setAutoDefault(False)  # Enter from a barcode scanner presses nothing here
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.hide()
        self.status = QLabel()
        self.status.setObjectName("attachmentStatus")
        self.error = ErrorLabel()
        self.error.setObjectName("attachmentError")

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.hint, 1)
        top.addWidget(self.status)
        top.addWidget(self.busy)
        actions = QHBoxLayout()
        actions.addWidget(self.description, 1)
        for widget in (self.add_button, self.open_button, self.describe_button, self.remove_button):
            actions.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        layout.addLayout(actions)
        layout.addWidget(self.error)
        self.set_record(record_id)

    # ------------------------------------------------------------ state

    @property
    def may_enter(self) -> bool:
        return self.ctx.may("enter", self.ledger_key)

    def set_record(self, record_id: int | None) -> None:
        """Show the attachments of ``record_id`` (None: a record not saved yet)."""
        self.record_id = record_id
        saved = record_id is not None
        self.list.setVisible(False)  # until the snapshot says what there is
        self.empty.setVisible(saved)
        self.empty.setText(tr("Drop scans, photos or PDF files here, or click “Add files…”.") if self.may_enter
                           else tr("No attachments"))
        self.description.setVisible(saved and self.may_enter)
        for button in (self.add_button, self.describe_button, self.remove_button):
            button.setVisible(saved and self.may_enter)
        self.open_button.setVisible(saved)
        if not saved:
            self.hint.setText(tr("Save the record first; then scans, photos and PDFs can be attached here."))
            return
        if not self.may_enter:
            self.hint.setText(tr("Your role may look at the attachments but not add any."))
        self.list.clear()
        self._update_buttons()
        self.reload()

    def current_key(self) -> PanelKey:
        return PanelKey(self.record_id)

    def load_snapshot(self, session, key: PanelKey) -> PanelSnapshot:
        if key.record_id is None:
            return PanelSnapshot(None, refused=key.refused)
        items = attachments.list_for_record(session, self.ledger_key, key.record_id)
        return PanelSnapshot(key.record_id, items, attachments.thumbnails(session, items), key.refused,
                             attachments.limit_bytes(session) // (1024 * 1024))

    def show_snapshot(self, snapshot: PanelSnapshot) -> None:
        if snapshot.record_id != self.record_id:
            return
        self.items = snapshot.items
        chosen = self.selected()
        self.list.clear()
        for info in snapshot.items:
            png, pages = snapshot.pictures.get(info.id, (None, 0))
            item = QListWidgetItem(self._icon(png), self._caption(info, pages))
            item.setData(Qt.ItemDataRole.UserRole, info.id)
            item.setToolTip(self._details(info, pages))
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.list.addItem(item)
            if chosen is not None and chosen.id == info.id:
                self.list.setCurrentItem(item)
        self.title.setText(tr("Attachments ({count})", count=len(snapshot.items)) if snapshot.items
                           else tr("Attachments"))
        if self.may_enter:
            self.hint.setText(tr("Scans, photos or PDF files of at most {mb} MB each.", mb=snapshot.limit_mb))
        self.list.setVisible(bool(snapshot.items))
        self.empty.setVisible(not snapshot.items)
        if snapshot.refused:
            self.error.show_message("\n".join(snapshot.refused))
        self._update_buttons()

    def _icon(self, png: bytes | None) -> QIcon:
        if png:
            pixmap = QPixmap()
            if pixmap.loadFromData(png, "PNG"):
                return QIcon(pixmap)
        return self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon)

    @staticmethod
    def _caption(info: AttachmentInfo, pages: int) -> str:
        name = info.filename if len(info.filename) <= NAME_SHOWN else info.filename[: NAME_SHOWN - 1] + "…"
        facts = [tr("{pages} pages", pages=pages) if info.is_pdf or pages > 1 else "",
                 attachments.size_text(info.size)]
        if info.late:
            facts.append(tr("added later"))
        return name + "\n" + " · ".join(f for f in facts if f)

    @staticmethod
    def _details(info: AttachmentInfo, pages: int) -> str:
        lines = [info.filename, tr("Type: {type}", type=info.media_type),
                 tr("Size: {size}", size=attachments.size_text(info.size))]
        if pages:
            lines.append(tr("Pages: {pages}", pages=pages))
        if info.description:
            lines.append(tr("Description: {text}", text=info.description))
        lines.append(tr("Added by {who} at {time}", who=info.added_by, time=f"{info.added_at:%Y-%m-%d %H:%M}"))
        if info.late:
            lines.append(tr("Added after the record was submitted (kept in the audit log)."))
        lines.append(f"SHA-256: {info.sha256}")
        if info.kept:
            lines.append(info.kept)
        return "\n".join(lines)

    def selected(self) -> AttachmentInfo | None:
        item = self.list.currentItem()
        if item is None:
            return None
        wanted = item.data(Qt.ItemDataRole.UserRole)
        return next((info for info in self.items if info.id == wanted), None)

    def select(self, attachment_id: int) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == attachment_id:
                self.list.setCurrentRow(row)

    def _update_buttons(self) -> None:
        chosen = self.selected()
        self.open_button.setEnabled(chosen is not None)
        self.describe_button.setEnabled(chosen is not None)
        self.remove_button.setEnabled(chosen is not None and chosen.kept is None)
        self.remove_button.setToolTip(chosen.kept if chosen is not None and chosen.kept else "")

    def rows(self) -> list[str]:
        """The captions as shown (tests and screenshots)."""
        return [self.list.item(row).text() for row in range(self.list.count())]

    # ------------------------------------------------------------ adding

    def choose_files(self) -> None:
        paths = Dialogs.open_files(self, tr("Attach files"), FILE_FILTER)
        if paths:
            self.add_files(paths)

    def add_files(self, paths: Iterable[str | Path]) -> None:
        """Read, check and attach the files on the task runner."""
        paths = [str(p) for p in paths]
        if not paths or self.record_id is None:
            return
        if not self.may_enter:
            self.error.show_message(tr("Your role may look at the attachments but not add any."))
            return
        ledger_key, record_id = self.ledger_key, self.record_id
        description = self.description.text().strip() or None
        self.busy.show()
        self.status.setText(tr("Checking and saving {count} files…", count=len(paths)))

        def write(session):
            return attachments.attach_paths(session, ledger_key, record_id, paths, description)

        def added() -> None:
            self.description.clear()

        self.submit(write, self.error, next_key=lambda result: PanelKey(record_id, tuple(result[1])),
                    on_success=added)

    def _write_done(self) -> None:
        super()._write_done()
        self.busy.hide()
        self.status.clear()

    # ------------------------------------------------------------ drops

    def dragEnterEvent(self, event) -> None:  # noqa: N802 — Qt's name
        if self.record_id is not None and self.may_enter and _local_files(event.mimeData()):
            event.acceptProposedAction()
            self._highlight(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if self.record_id is not None and self.may_enter and _local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._highlight(False)
        super().dragLeaveEvent(event)

    def _highlight(self, on: bool) -> None:
        """Show where the files will go while they are dragged over the panel."""
        self.list.setStyleSheet(f"QListWidget {{ {DROP_STYLE} }}" if on else "")
        self.empty.setStyleSheet(DROP_STYLE if on else EMPTY_STYLE)

    def dropEvent(self, event) -> None:  # noqa: N802
        self._highlight(False)
        paths = _local_files(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_files(paths)

    # ------------------------------------------------------------ the others

    def open_selected(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        attachment_id = chosen.id
        self.error.clear_message()
        self.status.setText(tr("Opening {name}…", name=chosen.filename))

        def task(_progress):
            with self.ctx.read() as session:
                return attachments.write_for_viewer(session, attachment_id)

        self.ctx.runner.run(task, self._opened, self._open_failed)

    def _opened(self, path: Path) -> None:
        if not self._alive():
            return
        self.status.clear()
        if not open_externally(path):
            self.error.show_message(tr("No program on this computer opens {name}; the copy is at {path}.",
                                       name=path.name, path=str(path)))

    def _open_failed(self, error: BaseException) -> None:
        if self._alive():
            self.status.clear()
            show_error(self, error)

    def describe_selected(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        text = Dialogs.ask_text(self, tr("Attachment description"),
                                tr("Description of {name}:", name=chosen.filename))
        if text is None:
            return
        attachment_id = chosen.id
        self.submit(lambda session: attachments.set_description(session, attachment_id, text), self.error)

    def remove_selected(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        if chosen.kept:
            self.error.show_message(chosen.kept)
            return
        reason = Dialogs.ask_text(self, tr("Remove attachment"),
                                  tr("Why is {name} being removed? (kept in the audit log)", name=chosen.filename))
        if reason is None:
            return
        attachment_id = chosen.id
        self.submit(lambda session: attachments.remove(session, attachment_id, reason), self.error)


def _local_files(mime) -> list[str]:
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
