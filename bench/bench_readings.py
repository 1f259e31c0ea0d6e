"""Issue 19 §2: importing 100,000 device readings (goal: < 10 s). A cold-store
logger's GBK export with decimal commas — 50,000 lines of temperature and
humidity, one a minute for about 35 days, a few outside the limits — imported
through ``devices.import_file`` with everything it does: parse, judge, audit
chain, alarms, the kept file, the monthly safety archives. Prints the figures;
not collected by pytest.

    .venv/bin/python -m bench.bench_readings [--db URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from app import clock
from app.db import open_database
from app.services import acting, common, devices

LINES = int(__import__("os").environ.get("BENCH_LINES", 50_000))  # two readings a line


def make_file() -> bytes:
    start = dt.datetime(2026, 10, 1)
    rows = ["记录仪：冷库一号", "序列号：TH-0001", "时间;温度(°C);湿度(%RH)"]
    for n in range(LINES):
        temperature = 2.0 + (n % 20) / 10 + (3.5 if n % 5000 == 0 else 0)
        humidity = 60 + (n % 100) / 10
        rows.append(f"{start + dt.timedelta(minutes=n):%Y/%m/%d %H:%M:%S};{temperature:.1f};{humidity:.1f}"
                    .replace(".", ","))
    return ("\r\n".join(rows) + "\r\n").encode("gbk")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="SQLAlchemy URL (default: a new SQLite file)")
    args = parser.parse_args()
    clock.freeze(dt.datetime(2026, 11, 22, 10, 0))
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine, sessions = open_database(url, actor=acting.system("基准"))
        with sessions.begin() as session:
            from tests.unit.builders import plant

            plant(session)
            profile = common.create(session, "reading_profile", dict(
                name="冷库记录仪", encoding="gbk", delimiter="semicolon", decimal_comma=True, skip_rows=2,
                time_column="时间", time_format="%Y/%m/%d %H:%M:%S", columns="温度(°C)=温度:℃\n湿度(%RH)=湿度:%RH"))
            device = common.create(session, "device", dict(code="TH01", name="冷库一号", kind="logger",
                                                           location="成品冷库", profile_id=profile.id,
                                                           limits="温度:0~5℃\n湿度:~75%RH"))
            device_id = device.id
        data = make_file()
        began, cpu = time.perf_counter(), time.process_time()
        with sessions.begin() as session:
            result = devices.import_file(session, device_id, "冷库一号.csv", data)
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
        began = time.perf_counter()
        with sessions.begin() as session:
            again = devices.import_file(session, device_id, "冷库一号.csv", data)
        twice = time.perf_counter() - began
        print(f"{engine.dialect.name}: {result.readings:,} readings ({len(data) / 1e6:.1f} MB GBK file), "
              f"{result.alarms} alarms: {took:.1f} s (goal < 10 s; CPU {cpu:.1f} s, the rest waiting on a shared machine); "
              f"the same file again: {twice * 1000:.0f} ms, duplicate={again.duplicate}")
        engine.dispose()


if __name__ == "__main__":
    main()
