"""R3.7: print an archive volume — preview, the system print dialog, save as PDF —
and print the volumes of a period in the background.

The volume is built on the task runner (``app.reports``, Qt-free) and kept as
PDF bytes. QtPdf is not part of PySide6-Essentials, so the pages are rendered
with pdfium (``pypdfium2``): one page at a time for the preview, page by page
onto the QPrinter for printing (QPainter may paint on a QPrinter in a worker
thread). Nothing slow runs in a slot.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from pathlib import Path

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDateEdit, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea,
    QSpinBox, QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from app.i18n import tr

from .context import AppContext
from .dialogs import Dialogs, show_error
from .tasks import Cancelled

log = logging.getLogger("ui.print")

PREVIEW_DPI = 96
PRINT_DPI_MAX = 300


def render_page(pdf_bytes: bytes, index: int, dpi: float) -> QImage:
    """One page as a QImage (pdfium); safe on a worker thread."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        image = document[index].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        document.close()
    data = image.tobytes()
    return QImage(data, image.width, image.height, 3 * image.width, QImage.Format.Format_RGB888).copy()


def page_count(pdf_bytes: bytes) -> int:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf_bytes)
    try:
        return len(document)
    finally:
        document.close()


def print_pdf(pdf_bytes: bytes, printer: QPrinter, progress) -> int:
    """Paint every page onto ``printer``, scaled to its page; returns the pages printed."""
    total = page_count(pdf_bytes)
    dpi = min(printer.resolution(), PRINT_DPI_MAX)
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError(tr("The printer could not be opened."))
    try:
        for index in range(total):
            progress.report(index, total, tr("Page {n} of {total}", n=index + 1, total=total))
            if index:
                printer.newPage()
            image = render_page(pdf_bytes, index, dpi)
            area = painter.viewport()
            size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawImage(area.x(), area.y(), image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                                                 Qt.TransformationMode.SmoothTransformation))
    finally:
        painter.end()
    return total


class PrintDialog(QDialog):
    """One volume: preview, print, save as PDF."""

    ready = Signal(int)  # pages
    page_shown = Signal(int)
    printed = Signal(int)
    saved = Signal(str)

    _open: list[PrintDialog] = []

    def __init__(self, ctx: AppContext, archive_id: int, title: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.archive_id = ctx, archive_id
        self.pdf: bytes | None = None
        self._generation = 0
        self.setWindowTitle(tr("Print volume {title}", title=title) if title else tr("Print volume"))
        self.resize(860, 980)
        self.status = QLabel(tr("Building the volume…"))
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.page = QSpinBox(minimum=1, maximum=1, enabled=False)
        self.page.valueChanged.connect(self.show_page)
        self.of = QLabel()
        self.previous = QPushButton(tr("Previous page"), enabled=False)
        self.next = QPushButton(tr("Next page"), enabled=False)
        self.previous.clicked.connect(lambda: self.page.setValue(self.page.value() - 1))
        self.next.clicked.connect(lambda: self.page.setValue(self.page.value() + 1))
        self.image = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.image.setStyleSheet("background: #808080;")
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.image)
        self.print_button = QPushButton(tr("Print…"), enabled=False)
        self.save_button = QPushButton(tr("Save as PDF…"), enabled=False)
        close = QPushButton(tr("Close"))
        self.print_button.clicked.connect(self.print_volume)
        self.save_button.clicked.connect(self.save_pdf)
        close.clicked.connect(self.reject)
        bar = QHBoxLayout()
        for widget in (self.previous, self.page, self.of, self.next):
            bar.addWidget(widget)
        bar.addStretch(1)
        for widget in (self.print_button, self.save_button, close):
            bar.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.busy)
        self.build()

    @classmethod
    def open(cls, ctx: AppContext, archive_id: int, title: str = "", parent: QWidget | None = None) -> PrintDialog:
        dialog = cls(ctx, archive_id, title, parent)
        cls._open.append(dialog)  # a non-modal window needs a reference
        dialog.finished.connect(lambda _r: cls._open.remove(dialog) if dialog in cls._open else None)
        dialog.show()
        return dialog

    # ------------------------------------------------------------------ building

    def build(self) -> None:
        from app.reports.volume import print_volume

        archive_id = self.archive_id

        def task(_progress):
            out = io.BytesIO()
            with self.ctx.read() as session:
                plan = print_volume(session, archive_id, out)
            data = out.getvalue()
            return data, page_count(data), plan.pages

        self.ctx.runner.run(task, self._built, self._failed)

    def _built(self, result) -> None:
        if not isValid(self):
            return
        self.pdf, pages, material_pages = result
        self.busy.hide()
        self.status.setText(tr("{pages} pages ({material} pages of materials, numbered).", pages=pages,
                               material=material_pages))
        self.of.setText(tr("of {pages}", pages=pages))
        self.page.setMaximum(pages)
        for widget in (self.page, self.print_button, self.save_button):
            widget.setEnabled(True)
        self.show_page(1)
        self.ready.emit(pages)

    def _failed(self, error: BaseException) -> None:
        if isValid(self):
            self.busy.hide()
            self.status.setText(tr("The volume could not be built."))
            show_error(self, error)

    # ------------------------------------------------------------------ preview

    def show_page(self, number: int) -> None:
        if self.pdf is None:
            return
        self._generation += 1
        generation, data = self._generation, self.pdf
        self.previous.setEnabled(number > 1)
        self.next.setEnabled(number < self.page.maximum())

        def shown(image: QImage) -> None:
            if isValid(self) and generation == self._generation:
                self.image.setPixmap(QPixmap.fromImage(image))
                self.page_shown.emit(number)

        self.ctx.runner.run(lambda _p: render_page(data, number - 1, PREVIEW_DPI), shown, self._failed)

    # ------------------------------------------------------------------ output

    @classmethod
    def choose_printer(cls, parent: QWidget) -> QPrinter | None:
        """The system print dialog (a test replaces this)."""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, parent)
        return printer if dialog.exec() == QDialog.DialogCode.Accepted else None

    def print_volume(self) -> None:
        printer = self.choose_printer(self)
        if printer is None or self.pdf is None:
            return
        data = self.pdf
        self.print_button.setEnabled(False)
        self.busy.setRange(0, 0)
        self.busy.show()

        def done(pages: int) -> None:
            if isValid(self):
                self.busy.hide()
                self.print_button.setEnabled(True)
                self.status.setText(tr("{pages} pages sent to the printer.", pages=pages))
                self.printed.emit(pages)

        def failed(error: BaseException) -> None:
            if isValid(self):
                self.print_button.setEnabled(True)
                self._failed(error)

        def progressed(done_pages: int, total: int, text: str) -> None:
            if isValid(self):
                self.busy.setRange(0, total)
                self.busy.setValue(done_pages)
                self.status.setText(text)

        self._printer = printer  # alive until the job ends
        self.ctx.runner.run(lambda progress: print_pdf(data, printer, progress), done, failed, progressed)

    def save_pdf(self) -> None:
        if self.pdf is None:
            return
        path = Dialogs.save_file(self, tr("Save as PDF"), f"{self.windowTitle()}.pdf", tr("PDF files (*.pdf)"))
        if not path:
            return
        try:
            Path(path).write_bytes(self.pdf)
        except OSError as error:
            show_error(self, error)
            return
        self.status.setText(tr("Saved {path}.", path=path))
        self.saved.emit(path)


class BatchPrintDialog(QDialog):
    """Every volume of a period, one PDF each, in the background (cancellable)."""

    finished_all = Signal(list)  # the files written
    stopped = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.progress = None
        self.setWindowTitle(tr("Print the volumes of a period"))
        today = QDate.currentDate()
        self.first = QDateEdit(QDate(today.year(), today.month(), 1), calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.last = QDateEdit(today, calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.folder = QLabel(tr("(not chosen)"))
        choose = QPushButton(tr("Choose folder…"))
        choose.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(choose)
        form = QFormLayout()
        form.addRow(tr("From"), self.first)
        form.addRow(tr("To"), self.last)
        form.addRow(tr("Folder"), row)
        self.bar = QProgressBar()
        self.status = QLabel()
        self.start_button = QPushButton(tr("Print"))
        self.cancel_button = QPushButton(tr("Cancel"), enabled=False)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._target: str | None = None

    @classmethod
    def choose_folder(cls, parent: QWidget) -> str | None:
        return QFileDialog.getExistingDirectory(parent, tr("Folder for the PDF volumes")) or None

    def _choose(self) -> None:
        folder = self.choose_folder(self)
        if folder:
            self._target = folder
            self.folder.setText(folder)

    def set_period(self, first: dt.date, last: dt.date) -> None:
        self.first.setDate(QDate(first.year, first.month, first.day))
        self.last.setDate(QDate(last.year, last.month, last.day))

    def start(self) -> None:
        from app.reports.volumes import print_volumes

        if not self._target:
            self._choose()
            if not self._target:
                return
        first, last, folder = self.first.date().toPython(), self.last.date().toPython(), self._target
        sessions = self.ctx.sessions

        def task(progress):
            return [str(p) for p in print_volumes(sessions, first, last, folder, progress.report)]

        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.bar.setRange(0, 0)
        self.status.setText(tr("Building…"))
        self.progress = self.ctx.runner.run(task, self._done, self._failed, self._progressed)

    def _progressed(self, done: int, total: int, text: str) -> None:
        if isValid(self):
            self.bar.setRange(0, total)
            self.bar.setValue(done)
            self.status.setText(tr("{done} of {total}: {text}", done=done, total=total, text=text) if text else "")

    def _reset(self) -> None:
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress = None

    def _done(self, files: list) -> None:
        if isValid(self):
            self._reset()
            self.bar.setRange(0, max(1, len(files)))
            self.bar.setValue(len(files))
            self.status.setText(tr("{count} volumes written to {folder}.", count=len(files), folder=self._target))
            self.finished_all.emit(files)

    def _failed(self, error: BaseException) -> None:
        if not isValid(self):
            return
        self._reset()
        if isinstance(error, Cancelled):
            self.status.setText(tr("Cancelled; the volumes finished so far are kept."))
            self.stopped.emit()
            return
        self.status.setText("")
        show_error(self, error)

    def cancel(self) -> None:
        if self.progress is not None:
            self.progress.cancel()
            self.status.setText(tr("Cancelling…"))
