"""帮助 → 校验数据和审计日志: ``foodarchive verify`` in the window, with a
field for the anchor printed on a paper volume's remarks sheet (issue 19)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget,
)

from app.errors import UserError
from app.i18n import tr

from .context import AppContext


def run_verify(engine, anchor: str | None) -> tuple[list[str], str]:
    """The findings, and a line on the anchor when one was given and holds (runs off the GUI thread)."""
    from app.services import anchors, audit

    with engine.connect() as connection:
        findings = [finding.message for finding in audit.verify(connection, anchor=anchor)]
        anchored = anchors.check_paper(connection, anchor)[1] if anchor else None
    said = ""
    if anchored is not None and not findings:
        said = tr("The chain up to entry {entry} ({at}, {count} entries) is the one printed on paper.",
                  entry=anchored.entry, at=anchored.at, count=anchored.count)
    return findings, said


class VerifyDialog(QDialog):
    finished_check = Signal(list)  # the findings (tests wait for it)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("verifyDialog")
        self.setWindowTitle(tr("Verify data and audit log"))
        self.resize(720, 480)
        self.anchor = QLineEdit()
        self.anchor.setObjectName("anchorField")
        self.anchor.setPlaceholderText(tr("optional: the hash printed on a sealed volume's remarks sheet"))
        self.error = QLabel()
        self.error.setObjectName("anchorError")
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow(tr("Audit log head hash") + "：", self.anchor)
        form.addRow("", self.error)
        self.start = QPushButton(tr("Verify"))
        self.start.setObjectName("verifyButton")
        self.start.clicked.connect(self.verify)
        self.anchor.returnPressed.connect(self.verify)
        self.summary = QLabel(tr("Checks every record against the audit log, the signatures, the values' domains, "
                                 "the upload queue and the chain's anchors."))
        self.summary.setObjectName("verifySummary")
        self.summary.setWordWrap(True)
        self.results = QPlainTextEdit()
        self.results.setObjectName("verifyResults")
        self.results.setReadOnly(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.start)
        layout.addWidget(self.summary)
        layout.addWidget(self.results, 1)
        layout.addWidget(buttons)

    def verify(self) -> None:
        from app.services import anchors

        typed = self.anchor.text().strip() or None
        if typed is not None:
            try:
                anchors.parse(typed)
            except UserError as exc:  # said beside the field; nothing runs
                self.error.setText(exc.message)
                self.error.show()
                return
        self.error.hide()
        self.start.setEnabled(False)
        self.results.clear()
        self.summary.setText(tr("Verifying… (a large archive takes a while)"))
        engine = self.ctx.engine
        self.ctx.runner.run(lambda _progress: run_verify(engine, typed), self._done, self._failed)

    def _done(self, result) -> None:
        findings, said = result
        self.start.setEnabled(True)
        if findings:
            self.summary.setText(tr("Verification failed: {count} problems found.", count=len(findings)))
            self.results.setPlainText("\n".join(findings))
        else:
            passed = tr("Verification passed: the audit log is intact, every record matches it "
                        "and every signature holds.")
            self.summary.setText(passed)
            self.results.setPlainText("\n".join(line for line in (passed, said) if line))  # room for the anchor line
        self.finished_check.emit(findings)

    def _failed(self, error: BaseException) -> None:
        self.start.setEnabled(True)
        message = error.message if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
        self.summary.setText(tr("The verification could not finish: {message}", message=message))
        self.finished_check.emit([message])
