"""Platform profiles are data, validated on load with errors that say where;
a second profile changes the field names without touching code."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.errors import ValidationError
from app.platform import profile, schedule
from app.platform.profile import ProfileError
from app.services import settings

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = json.loads((ROOT / "resources" / "platform" / "default.json").read_text(encoding="utf-8"))


def write(tmp_path, data) -> str:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_default_profile_says_it_is_not_the_official_one():
    loaded = profile.load()
    assert loaded.name == "foodarchive-open-1" and "default" in profile.available()
    assert "NOT the Shanghai platform's official interface" in loaded.data["notice"] and "非官方" in loaded.title


def test_a_second_profile_renames_fields_and_dates_without_code(tmp_path):
    data = json.loads(json.dumps(DEFAULT))
    data["name"] = "other-1"
    data["date_format"] = "%Y-%m-%d"
    data["messages"]["purchase"]["fields"]["goods_name"] = "spmc"
    data["messages"]["purchase"]["required"] = ["spmc"]
    other = profile.load(write(tmp_path, data))
    rendered = other.render("purchase", {"goods_name": "大豆", "production_date": "2026-11-01", "quantity": "1000", "trace_code": None})
    assert rendered == {"spmc": "大豆", "production_date": "2026-11-01", "quantity": "1000"}
    assert profile.load().render("purchase", {"production_date": "2026-11-01"}) == {"production_date": "20261101"}


@pytest.mark.parametrize("change, where, words", [
    (lambda d: d.pop("endpoints"), "endpoints", "缺少此项"),
    (lambda d: d.update(batchsize=5), "batchsize", "未知的项"),
    (lambda d: d["auth"].update(scheme="oauth9"), "auth.scheme", "不支持「oauth9」"),
    (lambda d: d.update(batch_size=0), "batch_size", "1 与 5000"),
    (lambda d: d.update(date_format="%Q"), "date_format", "不是可往返的日期格式"),
    (lambda d: d["messages"]["sale"]["fields"].update(colour="ys"), "messages.sale.fields.colour", "未知的数据元"),
    (lambda d: d["messages"]["sale"]["required"].append("nope"), "messages.sale.required", "「nope」"),
    (lambda d: d["messages"]["sale"].update(type="PURCHASE"), "messages.sale.type", "重复"),
    (lambda d: d["retry"].update(lease_seconds=5), "retry.lease_seconds", "timeout_seconds"),
    (lambda d: d["endpoints"].update(submit="api"), "endpoints.submit", "以 / 开头"),
])
def test_bad_profiles_are_refused_naming_the_place(tmp_path, change, where, words):
    data = json.loads(json.dumps(DEFAULT))
    change(data)
    with pytest.raises(ProfileError) as caught:
        profile.load(write(tmp_path, data))
    assert f"」{where}：" in caught.value.message and words in caught.value.message


def test_broken_json_and_missing_files_are_plain_errors(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": 1,', encoding="utf-8")
    with pytest.raises(ProfileError, match="第 1 行.*不是有效的 JSON"):
        profile.load(str(path))
    with pytest.raises(ProfileError, match="找不到平台配置文件"):
        profile.load(str(tmp_path / "none.json"))


def test_platform_settings_are_checked(session):
    with pytest.raises(ValidationError, match="平台地址"):
        settings.put(session, "platform_url", "ftp://x")
    with pytest.raises(ProfileError):
        settings.put(session, "platform_profile", "/no/such/profile.json")
    with pytest.raises(ValidationError, match="每日上传时刻"):
        settings.put(session, "upload_daily_hour", 24)
    settings.put(session, "platform_url", " https://trace.example/ ")
    settings.put(session, "upload_daily_hour", "2")
    assert settings.get(session, "platform_url") == "https://trace.example/" and settings.get(session, "upload_daily_hour") == 2


def test_schedule_interval_and_daily_hour():
    now = dt.datetime(2026, 11, 20, 1, 50)
    assert schedule.next_due_after(now, 15, None) == dt.datetime(2026, 11, 20, 2, 5)
    assert schedule.next_due_after(now, 120, 2) == dt.datetime(2026, 11, 20, 2, 0)
    assert schedule.next_due_after(dt.datetime(2026, 11, 20, 2, 0), 1440, 2) == dt.datetime(2026, 11, 21, 2, 0)


def test_no_usable_keyring_is_said_plainly(tmp_path):
    from app.cli import main

    assert main(["--db", str(tmp_path / "k.db"), "init"]) == 0
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    result = subprocess.run([sys.executable, "-m", "app", "--db", str(tmp_path / "k.db"), "platform-login"], cwd=ROOT,
                            input="k\ns\n", capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1 and "没有可用的密钥环" in result.stderr
