"""The print window on the demo factory: opened from the archive browser, the
preview pages, save as PDF, printing to a (PDF) printer, and many volumes in
the background with a progress bar and cancel."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter
from sqlalchemy import text

from app.ui.dialogs import Dialogs
from app.ui.print_dialog import BatchPrintDialog, PrintDialog

# Printing needs a Chinese TrueType font: without one, say which (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("print_font")

WAIT = 60000


def first_archive(ctx) -> tuple[int, str, int]:
    with ctx.engine.connect() as connection:
        return tuple(connection.execute(text(
            "SELECT a.id, a.archive_no, a.product_batch_id FROM archive a WHERE a.kind = 'product' "
            "ORDER BY a.id LIMIT 1")).one())


@pytest.fixture
def dialog(qtbot, ctx):
    archive_id, archive_no, _batch = first_archive(ctx)
    widget = PrintDialog(ctx, archive_id, archive_no)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.ready, timeout=WAIT) as ready:
        pass
    qtbot.waitSignal(widget.page_shown, timeout=WAIT)
    widget.pages = ready.args[0]
    return widget


@pytest.mark.qt_log_ignore("This plugin does not support")  # offscreen: showing a top-level window
def test_the_browser_opens_the_print_window_of_the_archive_shown(qtbot, ctx):
    from app.ui.archive_browser import ArchiveBrowser

    browser = ArchiveBrowser(ctx)
    qtbot.addWidget(browser)
    assert not browser.print_button.isEnabled()
    archive_id, archive_no, _batch = first_archive(ctx)
    with qtbot.waitSignal(browser.archive_shown, timeout=WAIT):
        browser.show_archive(archive_id)
    assert browser.print_button.isEnabled()
    window = browser.print_volume()
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=WAIT):
        pass
    assert window.archive_id == archive_id and archive_no in window.windowTitle()
    window.close()
    batch = browser.print_volumes()
    qtbot.addWidget(batch)
    assert batch.isVisible()


def test_preview_shows_every_page(qtbot, dialog):
    pdf = PdfReader(io.BytesIO(dialog.pdf))
    assert dialog.pages == len(pdf.pages) >= 4
    assert "卷内目录" in pdf.pages[1].extract_text()
    qtbot.waitUntil(lambda: dialog.image.pixmap() is not None and not dialog.image.pixmap().isNull(), timeout=WAIT)
    first = dialog.image.pixmap().size()
    assert first.height() > first.width() > 600  # A4 portrait at 96 dpi
    with qtbot.waitSignal(dialog.page_shown, timeout=WAIT) as shown:
        dialog.next.click()
    assert shown.args == [2] and dialog.page.value() == 2 and dialog.previous.isEnabled()
    with qtbot.waitSignal(dialog.page_shown, timeout=WAIT):
        dialog.page.setValue(dialog.pages)
    assert not dialog.next.isEnabled()


def test_save_as_pdf(qtbot, dialog, monkeypatch, tmp_path):
    target = tmp_path / "volume.pdf"
    monkeypatch.setattr(Dialogs, "save_file", classmethod(lambda cls, *a: str(target)))
    with qtbot.waitSignal(dialog.saved, timeout=WAIT):
        dialog.save_button.click()
    assert target.read_bytes() == dialog.pdf


def test_print_to_the_printer_the_user_chose(qtbot, dialog, monkeypatch, tmp_path):
    target = tmp_path / "printed.pdf"

    def pdf_printer(cls, parent):
        printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        return printer

    monkeypatch.setattr(PrintDialog, "choose_printer", classmethod(pdf_printer))
    with qtbot.waitSignal(dialog.printed, timeout=WAIT) as printed:
        dialog.print_button.click()
    assert printed.args == [dialog.pages]
    assert len(PdfReader(target).pages) == dialog.pages
    # A cancelled print dialog prints nothing.
    monkeypatch.setattr(PrintDialog, "choose_printer", classmethod(lambda cls, parent: None))
    dialog.print_button.click()
    assert dialog.print_button.isEnabled()


def test_the_volumes_of_a_period_in_the_background(qtbot, ctx, monkeypatch, tmp_path):
    import datetime as dt

    widget = BatchPrintDialog(ctx)
    qtbot.addWidget(widget)
    monkeypatch.setattr(BatchPrintDialog, "choose_folder", classmethod(lambda cls, parent: str(tmp_path)))
    widget.set_period(dt.date(2026, 9, 1), dt.date(2026, 9, 1))
    values = []
    widget.bar.valueChanged.connect(values.append)
    with qtbot.waitSignal(widget.finished_all, timeout=WAIT * 3) as done:
        widget.start_button.click()
        assert widget.cancel_button.isEnabled() and not widget.start_button.isEnabled()
    files = done.args[0]
    assert files and sorted(p.name for p in tmp_path.glob("*.pdf")) == sorted(f.split("/")[-1] for f in files)
    assert widget.bar.value() == widget.bar.maximum() == len(files) and values
    assert widget.start_button.isEnabled() and not widget.cancel_button.isEnabled()


def test_printing_many_volumes_can_be_cancelled(qtbot, ctx, monkeypatch, tmp_path):
    import datetime as dt

    widget = BatchPrintDialog(ctx)
    qtbot.addWidget(widget)
    monkeypatch.setattr(BatchPrintDialog, "choose_folder", classmethod(lambda cls, parent: str(tmp_path)))
    widget.set_period(dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    with qtbot.waitSignal(widget.stopped, timeout=WAIT * 3):
        widget.start_button.click()
        qtbot.waitUntil(lambda: widget.bar.maximum() > 0 and widget.bar.value() >= 1, timeout=WAIT)
        widget.cancel_button.click()
    written = list(tmp_path.glob("*.pdf"))
    assert 1 <= len(written) < widget.bar.maximum()
    assert not list(tmp_path.glob("*.part"))
    assert "已取消" in widget.status.text()


def test_a_missing_font_is_shown_as_a_message(qtbot, ctx, monkeypatch):
    from app.reports import fonts

    monkeypatch.setattr(fonts, "_registered", {})
    monkeypatch.setattr(fonts, "candidates", lambda setting="": [])
    shown = []
    monkeypatch.setattr(Dialogs, "warn", classmethod(lambda cls, parent, title, message: shown.append(message)))
    archive_id, archive_no, _batch = first_archive(ctx)
    widget = PrintDialog(ctx, archive_id, archive_no)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT)
    assert shown[0] == str(fonts.MISSING)  # the same words the window gives at its start
    assert widget.pdf is None and not widget.print_button.isEnabled()
