"""What a barcode scanner types at the receiving desk becomes lot and dates (no Qt)."""

from __future__ import annotations

import pytest

from app.errors import UserError
from app.services.gs1 import parse_scan

GTIN = "04012345678901"


def test_raw_gs1_128_with_fnc1_between_variable_fields():
    scan = f"01{GTIN}10ABC123\x1d1125010117260131"
    assert parse_scan(scan) == {
        "gtin": GTIN, "supplier_lot": "ABC123", "production_date": "2025-01-01", "expiry_date": "2026-01-31",
    }


def test_symbology_identifier_and_trailing_newline():
    assert parse_scan(f"]C101{GTIN}1125030110LOT-7\r\n") == {
        "gtin": GTIN, "supplier_lot": "LOT-7", "production_date": "2025-03-01", "expiry_date": None,
    }


def test_visible_group_separator_from_the_scan_field():
    # The scan field shows GS as U+241D; some scanners are set to send "<GS>".
    assert parse_scan(f"01{GTIN}10A1\u241d11250101")["production_date"] == "2025-01-01"
    assert parse_scan(f"01{GTIN}10A1<GS>11250101")["supplier_lot"] == "A1"


def test_bracketed_human_readable_text():
    assert parse_scan(f"(01){GTIN}(10)ABC123(11)250101(17)260215") == {
        "gtin": GTIN, "supplier_lot": "ABC123", "production_date": "2025-01-01", "expiry_date": "2026-02-15",
    }


def test_full_width_brackets_typed_by_hand():
    assert parse_scan(f"（01）{GTIN}（10）B7")["supplier_lot"] == "B7"


def test_digital_link_in_a_qr_code():
    url = f"https://id.example.com/01/{GTIN}/10/ABC123?11=250101&17=260100"
    assert parse_scan(url) == {
        "gtin": GTIN, "supplier_lot": "ABC123", "production_date": "2025-01-01", "expiry_date": "2026-01-31",
    }
    assert parse_scan("]Q3" + url)["supplier_lot"] == "ABC123"


@pytest.mark.parametrize(("value", "end"), [("260200", "2026-02-28"), ("240200", "2024-02-29"), ("251200", "2025-12-31")])
def test_expiry_day_00_is_the_end_of_the_month(value, end):
    assert parse_scan(f"01{GTIN}17{value}")["expiry_date"] == end


def test_best_before_stands_in_for_a_missing_expiry_date():
    assert parse_scan(f"01{GTIN}15261130")["expiry_date"] == "2026-11-30"
    assert parse_scan(f"01{GTIN}15261130" "17261231")["expiry_date"] == "2026-12-31"


def test_a_plain_ean_13_is_a_gtin_only():
    assert parse_scan("4012345678901") == {"gtin": "4012345678901", "supplier_lot": None, "production_date": None, "expiry_date": None}


@pytest.mark.parametrize("garbage", ["", "   ", "hello world", "大豆 2025", "https://example.com/foo", "(99", "00123456789012345675"])
def test_garbage_is_refused_in_chinese(garbage):
    with pytest.raises(UserError) as caught:
        parse_scan(garbage)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)


@pytest.mark.parametrize("scan", ["4012345678902", f"(01)04012345678902(10)A", "010401234567890210AB"])
def test_a_wrong_check_digit_is_refused(scan):
    with pytest.raises(UserError, match="校验位"):
        parse_scan(scan)
