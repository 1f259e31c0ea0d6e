"""The Windows installer, compiled and run without Windows: Inno Setup's own
compiler (ISCC.exe from the npm package ``innosetup``) under Wine compiles
installer/foodarchive.iss over a folder laid out as the Windows build lays it
out, then the compiled Setup installs silently into a fresh Wine prefix,
is installed over itself (an upgrade) and uninstalled.

What this proves and what it cannot is in installer/README.md. It runs
where Wine (with its 64-bit part: Setup is for x64 Windows 10) and ISCC.exe
are present — ``FOODARCHIVE_ISCC``, or ``build/innosetup/package/bin/ISCC.exe``
where .ci/run unpacks the npm package when the machine has Wine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "{7A3E5C1D-4B8F-4E2A-9C6D-2F1B0E8A5D34}"
APP_NAME = "食品质量技术档案"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def iscc() -> Path | None:
    for candidate in (os.environ.get("FOODARCHIVE_ISCC"), ROOT / "build" / "innosetup" / "package" / "bin" / "ISCC.exe"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def wine_has_64_bits() -> bool:
    return shutil.which("wine") is not None and (
        shutil.which("wine64") is not None or Path("/usr/lib/wine/wine64").exists())


pytestmark = [
    pytest.mark.windows,
    pytest.mark.skipif(not wine_has_64_bits(), reason="needs Wine with wine64 (Debian: wine, wine32, wine64)"),
    pytest.mark.skipif(iscc() is None, reason="needs ISCC.exe (npm package innosetup; see installer/README.md)"),
    pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="Setup's wizard needs a display: xvfb-run"),
]


def windows(path: Path) -> str:
    """A Linux path as Wine's Z: drive shows it."""
    return "Z:" + str(path).replace("/", "\\")


class Wine:
    """One fresh Wine prefix, Windows 10, 64-bit."""

    def __init__(self, prefix: Path):
        self.prefix = prefix
        self.env = dict(os.environ, WINEPREFIX=str(prefix), WINEARCH="win64", WINEDEBUG="-all",
                        WINEDLLOVERRIDES="mscoree,mshtml=", LC_ALL="C.UTF-8")

    def run(self, *args: str, display: bool = False, cwd: Path | None = None) -> subprocess.CompletedProcess:
        command = (["xvfb-run", "-a"] if display else []) + ["wine", *args]
        result = subprocess.run(command, env=self.env, cwd=cwd, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=600, errors="replace")
        subprocess.run(["wineserver", "-w"], env=self.env, timeout=120)  # registry and files written out
        return result

    def boot(self) -> None:
        subprocess.run(["wineboot", "-i"], env=self.env, capture_output=True, timeout=600, check=True)
        self.run("winecfg", "/v", "win10")

    @property
    def c(self) -> Path:
        return self.prefix / "drive_c"

    def registry_values(self, key: str) -> dict[str, str]:
        """String values of a key of HKEY_LOCAL_MACHINE, read from system.reg."""
        text = (self.prefix / "system.reg").read_text(encoding="utf-8", errors="replace")
        header = "[" + key.replace("\\", "\\\\") + "]"
        start = text.find(header)
        if start < 0:
            return {}
        block = text[start:].split("\n\n", 1)[0]
        values = {}
        for name, value in re.findall(r'^"([^"]+)"="(.*)"$', block, re.MULTILINE):
            values[name] = re.sub(r"\\x([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), value)
        return values


def frozen_folder(root: Path) -> Path:
    """The one-folder bundle as PyInstaller lays it out on Windows: the two
    programs, and _internal/ with the Python runtime and the package data
    (placeholders stand in for the binaries; the resources are the real ones)."""
    bundle = root / "FoodArchive"
    internal = bundle / "_internal"
    internal.mkdir(parents=True)
    for name in ("FoodArchive.exe", "foodarchive-cli.exe"):
        (bundle / name).write_bytes(b"MZ placeholder for " + name.encode())
    for name in ("python311.dll", "base_library.zip", "PySide6/Qt6Core.dll", "PySide6/plugins/platforms/qwindows.dll"):
        (internal / name).parent.mkdir(parents=True, exist_ok=True)
        (internal / name).write_bytes(b"placeholder")
    shutil.copytree(ROOT / "resources", internal / "app" / "resources",
                    ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    shutil.copytree(ROOT / "app" / "migrations", internal / "app" / "migrations",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return bundle


def chinese_messages(compiler: Path, target: Path) -> Path:
    """A stand-in for the unofficial ChineseSimplified.isl: Inno Setup's own
    English messages under a Chinese language's name and code page, so the
    script's Chinese language and its Chinese custom messages compile."""
    default = (compiler.parent / "Default.isl").read_text(encoding="utf-8-sig")
    options = {"LanguageName": "简体中文", "LanguageID": "$0804", "LanguageCodePage": "936"}
    for key, value in options.items():
        default = re.sub(rf"^{key}=[^\r\n]*", f"{key}={value}", default, count=1, flags=re.MULTILINE)
    target.write_text(default, encoding="utf-8-sig")
    return target


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    work = tmp_path_factory.mktemp("windows")
    wine = Wine(work / "prefix")
    wine.boot()
    compiler = iscc()
    bundle = frozen_folder(work)
    isl = chinese_messages(compiler, work / "ChineseSimplified.isl")
    out = work / "out"
    result = wine.run(str(compiler), f"/DAppVersion={VERSION}", f"/DBundleDir={windows(bundle)}",
                      f"/DChineseMessages={windows(isl)}", f"/O{windows(out)}", "installer\\foodarchive.iss", cwd=ROOT)
    yield wine, bundle, out, result
    shutil.rmtree(work / "prefix", ignore_errors=True)  # 1.3 GB


def test_the_script_compiles_with_its_chinese_texts(compiled):
    _wine, _bundle, out, result = compiled
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Successful compile" in result.stdout
    assert "ChineseSimplified.isl" in result.stdout  # the Chinese language was compiled
    setup = out / f"FoodArchive-Setup-{VERSION}.exe"
    assert setup.is_file() and setup.read_bytes()[:2] == b"MZ" and setup.stat().st_size > 500_000


def test_setup_installs_upgrades_and_uninstalls_keeping_the_users_data(compiled, tmp_path):
    wine, bundle, out, result = compiled
    assert result.returncode == 0
    setup = out / f"FoodArchive-Setup-{VERSION}.exe"
    data = wine.c / "users" / os.environ.get("USER", "root") / "AppData" / "Local" / "FoodArchive" / "FoodArchive"
    data.mkdir(parents=True, exist_ok=True)
    (data / "foodarchive.db").write_bytes(b"the factory's archive")
    log = tmp_path / "install.log"

    def install() -> str:
        done = wine.run(str(setup), "/VERYSILENT", "/SUPPRESSMSGBOXES", "/ALLUSERS", "/NORESTART",
                        "/TASKS=desktopicon", "/LANG=chinesesimplified", f"/LOG={windows(log)}", display=True)
        text = log.read_text(encoding="utf-8-sig", errors="replace")
        assert done.returncode == 0 and "Installation process succeeded" in text, text[-3000:]
        return text

    text = install()
    app = wine.c / "Program Files" / "FoodArchive"
    for name in ("FoodArchive.exe", "foodarchive-cli.exe", "unins000.exe", "_internal/python311.dll",
                 "_internal/app/resources/translations/zh_CN/core.json", "_internal/app/migrations/env.py"):
        assert (app / name).is_file(), name
    assert "64-bit install mode: Yes" in text
    start_menu = wine.c / "ProgramData" / "Microsoft" / "Windows" / "Start Menu" / "Programs" / f"{APP_NAME}.lnk"
    desktop = wine.c / "users" / "Public" / "Desktop" / f"{APP_NAME}.lnk"
    assert start_menu.is_file() and desktop.is_file()
    uninstall_key = f"Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{APP_ID}_is1"
    values = wine.registry_values(uninstall_key)
    assert values.get("DisplayName") == APP_NAME and values.get("DisplayVersion") == VERSION

    (app / "_internal" / "left-by-an-older-version.dll").write_bytes(b"stale")
    install()  # the next version over this one
    assert not (app / "_internal" / "left-by-an-older-version.dll").exists()
    assert (data / "foodarchive.db").read_bytes() == b"the factory's archive"

    removed = wine.run(str(app / "unins000.exe"), "/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART", display=True)
    assert removed.returncode == 0
    assert not (app / "FoodArchive.exe").exists() and not start_menu.exists() and not desktop.exists()
    assert wine.registry_values(uninstall_key) == {}
    assert (data / "foodarchive.db").read_bytes() == b"the factory's archive"
