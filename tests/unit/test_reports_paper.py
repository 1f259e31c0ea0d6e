"""Issue 16: a printed volume an inspector reads without the computer — each
record readable by itself, signatures for ink, every character with a glyph."""

from __future__ import annotations

import pytest

from app.reports.volume_data import find_archive, read_volume
from app.services import archives

from .test_reports_volume import build, factory, pages_of  # noqa: F401 — the fixture is shared

pytestmark = pytest.mark.usefixtures("print_font")


def test_every_catalogue_row_names_the_records_own_number_not_the_volumes(session, factory):  # noqa: F811
    _p, commodity, batch, _base = factory
    product = archives.product_archive(session, batch).id
    for archive_id in (product, find_archive(session, commodity.lot_code)):
        volume = read_volume(session, archive_id)
        assert volume.materials
        for material in volume.materials:
            assert material.doc_no != volume.archive_no
        # The first item is a document with a number of its own: the batch record, the commodity batch.
        assert volume.materials[0].doc_no in (batch.batch_no, commodity.lot_code)
        texts = pages_of(build(session, archive_id)[0])
        catalogue = texts[1]
        # The 档号 stands once above the table, never again in a row.
        assert catalogue.count(volume.archive_no) == 1
