"""The CJK font of every printed page: a TrueType (or TrueType collection)
font, embedded as a subset with a ToUnicode map, so the PDF prints and
searches the same on any PC. reportlab's built-in CID fonts are never used:
they are not embedded.

Which font: the enterprise setting ``report_font`` (a path; ``#N`` after a
.ttc path picks its N-th face). Empty means automatic: 宋体/仿宋 from
C:\\Windows\\Fonts on Windows, elsewhere the first CJK TrueType font found in
the usual font folders.

A CJK font may lack signs a record uses (℃, ‰, ±, μ, ①…): a second, Western
font (``FALLBACK``: DejaVu Sans, Arial, Segoe UI Symbol…) is registered
beside it, and ``markup`` sets each run of characters the first font lacks
in the second, so no character prints blank.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from app.errors import UserError
from app.i18n import Lazy, lazy, tr

log = logging.getLogger("reports")

FONT = "FoodArchiveCJK"  # the name every style uses

WINDOWS_CANDIDATES = ("simsun.ttc", "simfang.ttf", "simhei.ttf", "msyh.ttc", "msyh.ttf")
# File names of CJK TrueType fonts in the usual Linux/macOS places, best first.
OTHER_CANDIDATES = (
    "wqy-microhei.ttc", "wqy-zenhei.ttc", "NotoSerifCJK-Regular.ttc", "NotoSansCJK-Regular.ttc",
    "DroidSansFallbackFull.ttf", "uming.ttc", "ukai.ttc", "Songti.ttc", "STHeiti Light.ttc", "PingFang.ttc",
    "Arial Unicode.ttf",
)
FONT_DIRS = (
    "/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
    "/System/Library/Fonts", "/Library/Fonts", "~/Library/Fonts",
)
PROBE = "食品质量技术档案"

FALLBACK = "FoodArchiveSigns"  # the font of characters the CJK font lacks
# Fonts with the signs CJK fonts often lack, best first (file names, any folder).
FALLBACK_WINDOWS = ("seguisym.ttf", "arialuni.ttf", "arial.ttf", "segoeui.ttf")
FALLBACK_OTHER = ("DejaVuSans.ttf", "NotoSans-Regular.ttf", "LiberationSans-Regular.ttf", "FreeSans.ttf",
                  "Arial Unicode.ttf", "Arial.ttf")
# font name -> (character map: code point -> glyph, glyph data offsets). A
# character mapped to a glyph without outlines prints blank: WenQuanYi Micro
# Hei maps ℃ to an empty glyph.
_glyphs: dict[str, tuple[dict, list]] = {}
_drawn: set[str] = set()  # characters the CJK font is known to draw (``covered`` runs per table cell)

_registered: dict[str, str] = {}  # font spec -> the file it came from

# One message for the window (before its first screen) and for printing.
MISSING_TITLE = lazy("No Chinese font")
MISSING = lazy("No font with Chinese characters was found on this computer: the window shows Chinese text as "
               "boxes, and archives cannot be printed. Install a Chinese font: on Windows, SimSun comes with the "
               "system (reinstall it under Settings, Fonts if it was removed); on Debian or Ubuntu run "
               "'sudo apt install fonts-wqy-microhei'. Or choose a TrueType font file with Chinese characters "
               "in the setting 'print font'.")


def in_both_languages(text: Lazy) -> str:
    """The translation with the English beneath it: where no Chinese font is
    installed, Chinese shows as boxes and only the English can be read."""
    shown = str(text)
    return shown if shown == text.message else f"{shown}\n\n{text.message}"


def _windows_fonts(names=WINDOWS_CANDIDATES) -> list[Path]:
    root = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
    return [root / name for name in names]


def _found_elsewhere(names=OTHER_CANDIDATES) -> list[Path]:
    wanted = {name.lower(): rank for rank, name in enumerate(names)}
    found: list[tuple[int, Path]] = []
    for folder in FONT_DIRS:
        base = Path(folder).expanduser()
        if not base.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                rank = wanted.get(name.lower())
                if rank is not None:
                    found.append((rank, Path(dirpath) / name))
    return [path for _rank, path in sorted(found)]


def candidates(setting: str = "") -> list[str]:
    """Font specs (``path`` or ``path#index``) to try, in order."""
    if setting:
        return [setting]
    paths = _windows_fonts() if sys.platform.startswith("win") else _found_elsewhere()
    return [str(p) for p in paths if p.is_file()]


def _load(spec: str) -> TTFont:
    path, _, index = spec.partition("#")
    if not Path(path).is_file():
        raise FileNotFoundError(path)
    font = TTFont(FONT, path, subfontIndex=int(index or 0))
    if any(not font.face.charToGlyph.get(ord(ch)) for ch in PROBE):
        raise TTFError(f"{path}: no Chinese glyphs")
    return font


def register(setting: str = "") -> str:
    """Register the CJK font under ``FONT``; return the file used.

    Raises UserError (in Chinese) when no usable font exists, before any
    page is drawn, so no broken PDF is ever written.
    """
    key = setting or "<auto>"
    if key in _registered:
        return _registered[key]
    tried = candidates(setting)
    problems = []
    for spec in tried:
        try:
            font = _load(spec)
        except (OSError, TTFError, ValueError, KeyError) as exc:
            problems.append(f"{spec}: {exc}")
            continue
        pdfmetrics.registerFont(font)
        _glyphs[FONT] = (font.face.charToGlyph, font.face.glyphPos)
        _drawn.clear()
        _register_fallback()
        _registered.clear()
        _registered[key] = spec
        log.info("CJK font for printing: %s", spec)
        return spec
    if setting:
        raise UserError(tr("The print font {path} cannot be used (it must be a TrueType font with Chinese characters). "
                           "Change the setting 'print font'.", path=setting))
    log.warning("no CJK font: %s", "; ".join(problems) or "none found")
    raise UserError(str(MISSING))


def from_settings(session) -> str:
    from app.services import settings

    return register(settings.get(session, "report_font"))


def fallback_candidates() -> list[str]:
    paths = _windows_fonts(FALLBACK_WINDOWS) if sys.platform.startswith("win") else _found_elsewhere(FALLBACK_OTHER)
    return [str(p) for p in paths if p.is_file()]


def _register_fallback() -> None:
    """The second font, once: without one, characters the CJK font lacks
    still print blank (logged), as before."""
    if FALLBACK in _glyphs:
        return
    for spec in fallback_candidates():
        try:
            font = TTFont(FALLBACK, spec)
        except (OSError, TTFError, ValueError, KeyError) as exc:
            log.info("fallback font %s unusable: %s", spec, exc)
            continue
        pdfmetrics.registerFont(font)
        _glyphs[FALLBACK] = (font.face.charToGlyph, font.face.glyphPos)
        log.info("fallback font for printing: %s", spec)
        return
    log.warning("no fallback font: signs such as ℃ print only if the CJK font has them")
    _glyphs[FALLBACK] = ({}, [])


def has_glyph(font: str, char: str) -> bool:
    """``font`` draws ``char``: mapped to a glyph with outlines (white space needs none)."""
    cmap, positions = _glyphs.get(font, ({}, []))
    glyph = cmap.get(ord(char))
    return bool(glyph) and (char.isspace() or positions[glyph + 1] > positions[glyph])


def _blank(char: str) -> bool:
    return char in "\n\r\t"


def font_for(char: str) -> str | None:
    """The registered font that draws ``char``: the CJK font if it can, else the fallback."""
    if has_glyph(FONT, char):
        return FONT
    if has_glyph(FALLBACK, char):
        return FALLBACK
    return None


def covered(text: str) -> bool:
    """Every character of ``text`` is in the CJK font (a plain string can be drawn as it is)."""
    for ch in text:
        if ch not in _drawn:
            if not (_blank(ch) or has_glyph(FONT, ch)):
                return False
            _drawn.add(ch)
    return True


def missing(text: str) -> set[str]:
    """The characters of ``text`` neither font has."""
    return {ch for ch in text if not _blank(ch) and font_for(ch) is None}


def markup(text: str) -> str:
    """``text`` as Paragraph markup: escaped, line breaks kept, each run of
    characters the CJK font lacks set in the fallback font."""
    from xml.sax.saxutils import escape

    if covered(text):
        return escape(text).replace("\n", "<br/>")
    out, run, in_fallback = [], [], False
    for ch in text:
        other = not _blank(ch) and not has_glyph(FONT, ch) and has_glyph(FALLBACK, ch)
        if other != in_fallback and run:
            out.append(_run("".join(run), in_fallback))
            run = []
        in_fallback = other
        run.append(ch)
    if run:
        out.append(_run("".join(run), in_fallback))
    return "".join(out)


def _run(text: str, in_fallback: bool) -> str:
    from xml.sax.saxutils import escape

    shown = escape(text).replace("\n", "<br/>")
    return f'<font name="{FALLBACK}">{shown}</font>' if in_fallback else shown
