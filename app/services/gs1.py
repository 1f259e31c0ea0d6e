"""Read what a barcode scanner types: GS1-128 element strings, their printed
(bracketed) form, and GS1 Digital Link URLs in a QR code (standards.md).

Qt-free: the parsing is the ``biip`` package's; this module only chooses
the reading and picks out what a receipt needs.
"""

from __future__ import annotations

import biip
from biip.gs1_messages import GS1Message

from app.errors import UserError
from app.i18n import tr

GS = "\x1d"  # FNC1 as a scanner sends it between variable-length fields
# What stands for GS when a keyboard path cannot carry the control character:
# what the scan field shows for it, the Unicode symbol for GS, and the
# spelled-out forms some scanners are set up to send.
GS_SHOWN = "<GS>"
GS_STAND_INS = (GS_SHOWN, "\u241d", "<gs>", "{GS}")
SYMBOLOGY_PREFIXES = ("]C1", "]d2", "]Q3", "]e0", "]J1")
FULL_WIDTH = str.maketrans({"（": "(", "）": ")", "：": ":", "／": "/", "？": "?", "＆": "&", "＝": "="})
PLAIN_GTIN_LENGTHS = (8, 12, 13, 14)

# Application identifier -> the key of the result (standards.md).
AIS = {"01": "gtin", "10": "supplier_lot", "11": "production_date", "17": "expiry_date"}
BEST_BEFORE = "15"  # used for the expiry date when a label carries no AI 17


def normalise(text: str) -> str:
    text = text.strip().translate(FULL_WIDTH)
    for stand_in in GS_STAND_INS:
        text = text.replace(stand_in, GS)
    return text.strip(GS)


def _bare(text: str) -> str:
    """Without the symbology identifier some scanners put in front."""
    for prefix in SYMBOLOGY_PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


def _message(text: str) -> GS1Message | None:
    bare = _bare(text)
    if bare.startswith("("):
        try:
            return GS1Message.parse_hri(bare)
        except Exception:  # noqa: BLE001 — biip raises several kinds; all mean "not GS1"
            return None
    result = biip.parse(text)
    if result.gs1_digital_link_uri is not None:
        return result.gs1_digital_link_uri.as_gs1_message()
    return result.gs1_message


def parse_scan(text: str) -> dict[str, str | None]:
    """GTIN, lot, production and expiry date (ISO) from one scan.

    AI 17 with day 00 means the last day of its month (biip does that). A
    plain EAN/UPC/ITF-14 number gives the GTIN only. Raises UserError when the
    scan holds nothing GS1 a receipt can use.
    """
    found: dict[str, str | None] = {"gtin": None, "supplier_lot": None, "production_date": None, "expiry_date": None}
    cleaned = normalise(text or "")
    if not cleaned:
        raise UserError(tr("The scan is empty."))
    bare = _bare(cleaned)
    if bare.isdigit() and len(bare) in PLAIN_GTIN_LENGTHS:
        result = biip.parse(cleaned)
        if result.gtin is None:
            raise UserError(tr("The barcode {code} has a wrong check digit.", code=bare))
        found["gtin"] = result.gtin.value
        return found
    message = _message(cleaned)
    if message is not None:
        best_before = None
        for element in message.element_strings:
            ai = element.ai.ai
            if ai == "01" and element.gtin is None:
                raise UserError(tr("The barcode {code} has a wrong check digit.", code=element.value))
            if ai == BEST_BEFORE:
                best_before = element.date.isoformat() if element.date else None
            elif ai in AIS:
                key = AIS[ai]
                found[key] = element.date.isoformat() if key.endswith("_date") and element.date else element.value
        if found["expiry_date"] is None:
            found["expiry_date"] = best_before
    if not any(found.values()):
        shown = cleaned.replace(GS, GS_SHOWN)
        raise UserError(tr("No GS1 product data (GTIN, lot or dates) was found in the scan: {text}", text=shown[:60]))
    return found
