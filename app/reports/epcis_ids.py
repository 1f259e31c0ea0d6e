"""Identifiers of the EPCIS export: GS1 Digital Link URIs where the thing has
a GS1 key, URIs of our own under a configurable base where it has none.

A commodity lot whose spec carries a valid GTIN and whose lot code fits AI 10
is named by its canonical GS1 Digital Link URI (``https://id.gs1.org/01/…/10/…``,
the form EPCIS 2.0 uses for class-level identifiers, whatever resolver the
label's QR code points to). Material lots, product batches, parties, places
and our documents have no GS1 key here (no GLN, no supplier GTIN is kept):
they get ``<base>/<kind>/<key>`` with the setting ``epcis_id_base`` as base —
by default ``https://id.foodarchive.invalid/<our credit code>``, a name that
is unique (our 18-character credit code) and says plainly that it resolves
nowhere until the factory sets a base on a domain of its own
(docs/epcis.md).
"""

from __future__ import annotations

import re
import uuid
from functools import lru_cache
from urllib.parse import quote

import biip
from stdnum import ean

from .codes import gtin14

CANONICAL_RESOLVER = "https://id.gs1.org"
DEFAULT_BASE = "https://id.foodarchive.invalid/{credit_code}"
# GS1 AI 10 (batch/lot): up to 20 characters of GS1's 82-character set.
LOT_AI10 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")
# Event IDs are name-based UUIDs (RFC 4122 v5) of what the event records:
# the same record gives the same eventID in every export.
EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:foodarchive:epcis:event")

# UN/ECE Recommendation 20 codes, the units EPCIS quantities are given in.
# Packs and pieces count as H87 (piece).
UOM = {
    "kg": "KGM", "千克": "KGM", "公斤": "KGM", "g": "GRM", "克": "GRM", "t": "TNE", "吨": "TNE",
    "l": "LTR", "升": "LTR", "ml": "MLT", "毫升": "MLT",
    "个": "H87", "件": "H87", "只": "H87", "片": "H87", "张": "H87", "瓶": "H87", "袋": "H87", "盒": "H87",
    "箱": "H87", "包": "H87", "桶": "H87", "卷": "H87", "套": "H87", "pcs": "H87",
}


def uom(unit: str | None) -> str | None:
    """The Rec 20 code of ``unit``, or None when it has none we know."""
    return UOM.get((unit or "").strip().lower())


def _segment(value: str) -> str:
    return quote(str(value).strip(), safe="")


@lru_cache(maxsize=4096)
def digital_link_class(gtin: str | None, lot: str) -> str | None:
    """``https://id.gs1.org/01/<GTIN-14>/10/<lot>``, or None when the GTIN's
    check digit is wrong or the lot cannot be an AI 10 value. The URI is
    parsed back with biip, so only what a GS1 reader accepts is used."""
    if not gtin or not ean.is_valid(gtin) or not LOT_AI10.match(lot or ""):
        return None
    uri = f"{CANONICAL_RESOLVER}/01/{gtin14(gtin)}/10/{_segment(lot)}"
    try:
        parsed = biip.parse(uri).gs1_digital_link_uri
    except Exception:  # noqa: BLE001 — biip raises several kinds; all mean "not a Digital Link"
        return None
    return uri if parsed is not None else None


class Identifiers:
    """Every URI of one export, from one base."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def own(self, *parts: str) -> str:
        return "/".join([self.base, *(_segment(p) for p in parts)])

    def commodity_lot(self, gtin: str | None, product_code: str, lot_code: str) -> str:
        return digital_link_class(gtin, lot_code) or self.own("product", product_code, "lot", lot_code)

    def material_lot(self, material_code: str, lot_no: str) -> str:
        return self.own("material", material_code, "lot", lot_no)

    def product_batch(self, product_code: str, batch_no: str) -> str:
        return self.own("product", product_code, "batch", batch_no)

    def party(self, credit_code: str | None, name: str) -> str:
        """A supplier, customer or ourselves: by credit code where there is one."""
        return self.own("party", "uscc", credit_code) if credit_code else self.own("party", "name", name)

    def place(self, kind: str, code: str | None = None) -> str:
        return self.own("location", kind, *([code] if code else []))

    def document(self, kind: str, number: str) -> str:
        return self.own("document", kind, number)

    def event_id(self, kind: str, *key: object) -> str:
        """A stable URN for the event that ``kind`` + ``key`` records."""
        name = "|".join([self.base, kind, *(str(k) for k in key)])
        return f"urn:uuid:{uuid.uuid5(EVENT_NAMESPACE, name)}"


def base_uri(setting: str, credit_code: str | None) -> str:
    """The base for our own URIs: the setting, or the default from our credit code."""
    if setting.strip():
        return setting.strip()
    return DEFAULT_BASE.format(credit_code=credit_code or "unknown")
