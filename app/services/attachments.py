"""R3.6: files attached to any record — scans of original vouchers, licence
scans, platform screenshots, label images — kept in the database with their
SHA-256, so every PC of a factory (PostgreSQL) sees the same files and the
audit chain covers their content.

Only what can be printed into an archive volume is taken: images Pillow
opens and decodes completely, and PDFs pypdf reads without a password. A
file is checked before anything is written, so a refused file changes
nothing. Attaching needs the ``enter`` permission of the record's ledger;
adding a scan to a record after it was submitted is allowed (the scan often
comes later) and the audit log says so. Removing follows the retention guard
(``guards.attachment_refusal``).
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import io
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import PermissionDenied, UserError
from app.ledgers import Ledger, registry
from app.models import Attachment, Signature
from app.models.base import Submittable

from . import settings, users
from .common import now
from .guards import attachment_refusal, describe, refusal_for

PDF = "application/pdf"
# Pillow's format name -> the media type stored. MPO is what Pillow calls a
# phone camera's JPEG that carries a second, preview picture.
IMAGE_FORMATS = {
    "JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "TIFF": "image/tiff", "BMP": "image/bmp",
    "GIF": "image/gif", "WEBP": "image/webp",
}
EXTENSIONS = {"image/jpeg": (".jpg", ".jpeg", ".jpe"), "image/png": (".png",), "image/tiff": (".tif", ".tiff"),
              "image/bmp": (".bmp", ".dib"), "image/gif": (".gif",), "image/webp": (".webp",), PDF: (".pdf",)}
# Opened by these readers only (Pillow's JPEG reader also yields MPO).
OPENED_AS = ["JPEG", "PNG", "TIFF", "BMP", "GIF", "WEBP"]
KINDS_SHOWN = "JPEG、PNG、TIFF、BMP、GIF、WebP 图片或 PDF"
# Rows that are the archive's own bookkeeping: nothing is attached to them.
NOT_ATTACHABLE = frozenset({"attachment", "archive_record", "catalogue_entry", "amendment"})
LATE_REASON = "记录提交后补充附件"
NAME_LENGTH = 200  # Attachment.filename


@dataclass(frozen=True)
class AttachmentInfo:
    """One attachment as the record window lists it (no content)."""

    id: int
    filename: str
    media_type: str
    size: int
    sha256: str
    description: str
    added_at: dt.datetime
    added_by: str
    late: bool  # added after the record was submitted
    kept: str | None  # why it may not be removed now; None: it may

    @property
    def is_pdf(self) -> bool:
        return self.media_type == PDF


@dataclass(frozen=True)
class Checked:
    media_type: str
    pages: int  # 1 for an image


# ------------------------------------------------------------------ limits


def limit_bytes(session: Session) -> int:
    return int(settings.get(session, "attachment_max_mb")) * 1024 * 1024


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _too_big(filename: str, size: int, limit: int) -> UserError:
    return UserError(f"文件「{filename}」有 {size_text(size)}，超过附件大小上限 {limit // (1024 * 1024)} MB；"
                     "请降低扫描分辨率或分成几个文件后再添加")


# ------------------------------------------------------------------ checking


def clean_filename(filename: str) -> str:
    """The file's own name, without the folders of the PC it came from."""
    name = PureWindowsPath(str(filename or "").replace("/", "\\")).name.strip()
    name = "".join(ch for ch in name if ch >= " ")
    if not name:
        return "附件"
    if len(name) > NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        ext = dot + ext if dot and len(ext) <= 10 else ""
        name = name[: NAME_LENGTH - len(ext)] + ext
    return name


def check_file(filename: str, data: bytes, limit: int) -> Checked:
    """What the file is, or a UserError naming it: empty, too big, not an
    image or a PDF, damaged, incomplete or password-protected."""
    if not data:
        raise UserError(f"文件「{filename}」是空文件（0 字节），不能作为附件")
    if len(data) > limit:
        raise _too_big(filename, len(data), limit)
    if b"%PDF-" in data[:1024]:
        return Checked(PDF, _check_pdf(filename, data))
    return Checked(_check_image(filename, data), 1)


def _check_pdf(filename: str, data: bytes) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    damaged = UserError(f"PDF 文件「{filename}」已损坏或不完整，无法读取，不能作为附件；请重新扫描或导出后再添加")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf's notes on a sloppy but readable file
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise UserError(f"PDF 文件「{filename}」设有密码（已加密），打印档案时无法读取，不能作为附件；"
                                "请在 PDF 阅读器中去除密码（或“打印”为新的 PDF）后再添加")
            pages = reader.pages
            count = len(pages)
            for page in pages:
                # What placing the page in a volume reads: its size and content.
                if float(page.mediabox.width) <= 0 or float(page.mediabox.height) <= 0:
                    raise damaged
                page.get_contents()
    except UserError:
        raise
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError, OSError, RecursionError,
            ArithmeticError):
        raise damaged from None
    if count == 0:
        raise UserError(f"PDF 文件「{filename}」没有页面，不能作为附件")
    return count


def _check_image(filename: str, data: bytes) -> str:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=OPENED_AS) as image:
                kind = image.format
                image.verify()
            # verify() reads the structure only: decode every pixel, which is
            # where a truncated scan fails.
            with Image.open(io.BytesIO(data), formats=OPENED_AS) as image:
                for index in range(getattr(image, "n_frames", 1) if kind == "TIFF" else 1):
                    image.seek(index)  # every page of a multi-page TIFF scan prints
                    image.load()
    except UnidentifiedImageError:
        raise UserError(f"文件「{filename}」不是可识别的图片或 PDF 文件，不能作为附件；只能添加{KINDS_SHOWN}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UserError(f"图片「{filename}」像素过多（超过 {Image.MAX_IMAGE_PIXELS // 1_000_000} 百万像素），"
                        "不能作为附件；请降低扫描分辨率后再添加") from None
    except (OSError, ValueError, SyntaxError, IndexError, TypeError, EOFError, KeyError, ZeroDivisionError) as exc:
        raise UserError(f"图片「{filename}」已损坏或不完整（{_what_failed(exc)}），不能作为附件；请重新扫描或拍摄后再添加") from None
    return IMAGE_FORMATS[kind]


def _what_failed(exc: BaseException) -> str:
    text = str(exc)
    if "truncated" in text:
        return "文件被截断"
    return "无法解码"


def read_file(path: str | Path, limit: int) -> tuple[str, bytes]:
    """A file from disk as (name, bytes); one larger than ``limit`` is refused
    before it is read."""
    path = Path(path)
    name = clean_filename(path.name)
    try:
        if path.is_dir():
            raise UserError(f"「{name}」是文件夹，不能作为附件；请选择其中的文件")
        size = path.stat().st_size
        if size > limit:
            raise _too_big(name, size, limit)
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"找不到文件「{name}」（{path}）") from None
    except PermissionError:
        raise UserError(f"没有读取文件「{name}」的权限（{path}）") from None
    except OSError as exc:
        raise UserError(f"无法读取文件「{name}」：{exc.strerror or exc}") from None
    return name, data


# ------------------------------------------------------------------ records


def _declaration(ledger_key: str) -> Ledger:
    declaration = registry().get(ledger_key)
    if declaration is None or ledger_key in NOT_ATTACHABLE:
        raise UserError(f"「{ledger_key}」的记录不能添加附件")
    return declaration


def _record(session: Session, declaration: Ledger, record_id: int):
    record = session.get(declaration.model, record_id) if record_id is not None else None
    if record is None:
        raise UserError(f"要添加附件的{declaration.title}记录（编号 {record_id}）不存在；请先保存记录")
    return record


def attachment_field(declaration: Ledger) -> str | None:
    """The record's own column for its scan (a licence's scan, a platform
    check's screenshot, a product's label image, a reading's source file)."""
    return next((f.name for f in declaration.fields if f.lookup is not None and f.lookup.ledger == "attachment"), None)


def attach(
    session: Session, ledger_key: str, record_id: int, filename: str, data: bytes, description: str | None = None,
) -> Attachment:
    """Attach a checked file to a record; nothing is written when it is refused."""
    declaration = _declaration(ledger_key)
    users.require(session, "enter", ledger_key)
    record = _record(session, declaration, record_id)
    filename = clean_filename(filename)
    checked = check_file(filename, data, limit_bytes(session))
    digest = hashlib.sha256(data).hexdigest()
    same = session.scalar(select(Attachment.filename).where(
        Attachment.ledger == ledger_key, Attachment.record_id == record_id, Attachment.sha256 == digest))
    if same is not None:
        raise UserError(f"文件「{filename}」已经附在{describe(record)}上（附件「{same}」），不再重复添加")
    attachment = Attachment(
        filename=filename, media_type=checked.media_type, sha256=digest, content=bytes(data), ledger=ledger_key,
        record_id=record_id, description=(description or "").strip() or None, created_at=now(session),
    )
    session.add(attachment)
    late = isinstance(record, Submittable) and record.submitted_at is not None
    with _reason(session, LATE_REASON if late else None):
        session.flush()
    _fill_record_column(session, declaration, record, attachment)
    return attachment


@contextmanager
def _reason(session: Session, reason: str | None):
    """The audit log's reason for the flushes inside; the caller's own comes back after."""
    if reason is None:
        yield
        return
    before = session.info.get("reason")
    session.info["reason"] = reason
    try:
        yield
    finally:
        if before is None:
            session.info.pop("reason", None)
        else:
            session.info["reason"] = before


def _fill_record_column(session: Session, declaration: Ledger, record, attachment: Attachment) -> None:
    """The first file attached also fills the record's own column, unless
    that would change signed or submitted content."""
    column = attachment_field(declaration)
    if column is None or getattr(record, column) is not None:
        return
    if isinstance(record, Submittable) and record.submitted_at is not None:
        return
    signed = session.scalar(select(Signature.id).where(
        Signature.table_name == declaration.model.__table__.name, Signature.row_id == record.id).limit(1))
    if signed is None:
        setattr(record, column, attachment.id)
        session.flush()


def attach_paths(
    session: Session, ledger_key: str, record_id: int, paths: Iterable[str | Path], description: str | None = None,
) -> tuple[list[int], list[str]]:
    """Attach files from disk (the record window's file dialog and drops):
    each good file is attached, each bad one is refused with its reason.
    Returns (ids attached, messages of the files refused)."""
    declaration = _declaration(ledger_key)
    users.require(session, "enter", ledger_key)
    _record(session, declaration, record_id)
    limit = limit_bytes(session)
    added: list[int] = []
    refused: list[str] = []
    for path in paths:
        try:
            name, data = read_file(path, limit)
            # Every check runs before the row is added: a refusal leaves the
            # transaction as it was, so the next file can still go in.
            added.append(attach(session, ledger_key, record_id, name, data, description).id)
        except PermissionDenied:
            raise
        except UserError as error:
            refused.append(error.message)
    return added, refused


# ------------------------------------------------------------------ reading


def list_for_record(session: Session, ledger_key: str, record_id: int) -> list[AttachmentInfo]:
    """The record's attachments, oldest first, without their content."""
    declaration = _declaration(ledger_key)
    record = session.get(declaration.model, record_id)
    submitted = getattr(record, "submitted_at", None)
    rows = session.execute(
        select(Attachment.id, Attachment.filename, Attachment.media_type, func.length(Attachment.content),
               Attachment.sha256, Attachment.description, Attachment.created_at, Attachment.created_by)
        .where(Attachment.ledger == ledger_key, Attachment.record_id == record_id)
        .order_by(Attachment.id)
    ).all()
    infos = []
    for row in rows:
        refusal = refusal_for(session, row.id, row.filename, ledger_key, record_id)
        infos.append(AttachmentInfo(
            row.id, row.filename, row.media_type, int(row[3] or 0), row.sha256, row.description or "",
            row.created_at, row.created_by, submitted is not None and row.created_at > submitted,
            refusal.message if refusal is not None else None,
        ))
    return infos


def content(session: Session, attachment_id: int) -> tuple[str, str, bytes]:
    """(file name, media type, bytes) of one attachment, for viewing."""
    row = session.execute(select(Attachment.filename, Attachment.media_type, Attachment.content)
                          .where(Attachment.id == attachment_id)).first()
    if row is None:
        raise UserError("该附件已不存在")
    return row.filename, row.media_type, bytes(row.content)


def filename_of(session: Session, attachment_id: int) -> str | None:
    return session.scalar(select(Attachment.filename).where(Attachment.id == attachment_id))


def viewer_name(filename: str, media_type: str) -> str:
    """The name a viewer gets: the original one, with the right extension
    added when the original's does not say what the file is."""
    name = clean_filename(filename)
    if not name.lower().endswith(EXTENSIONS.get(media_type, ())):
        name += EXTENSIONS.get(media_type, ("",))[0]
    for bad in '<>:"/\\|?*':
        name = name.replace(bad, "_")
    return name


_viewer_folders: list[Path] = []


def write_for_viewer(session: Session, attachment_id: int) -> Path:
    """A read-only copy in a fresh temporary folder, named like the original,
    for the system's viewer; the folders go when the program ends."""
    filename, media_type, data = content(session, attachment_id)
    folder = Path(tempfile.mkdtemp(prefix="foodarchive-attachment-"))
    if not _viewer_folders:
        atexit.register(_remove_viewer_folders)
    _viewer_folders.append(folder)
    path = folder / viewer_name(filename, media_type)
    path.write_bytes(data)
    path.chmod(0o444)  # what a viewer shows is a copy: saving changes there changes nothing here
    return path


def _remove_viewer_folders() -> None:
    for folder in _viewer_folders:
        for child in folder.glob("*"):
            try:
                child.chmod(0o644)
                child.unlink()
            except OSError:  # still open in a viewer (Windows): the system cleans temp later
                pass
        try:
            folder.rmdir()
        except OSError:
            pass


# ------------------------------------------------------------------ changing


def _owned(session: Session, attachment_id: int) -> Attachment:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise UserError("该附件已不存在")
    if attachment.ledger:
        users.require(session, "enter", attachment.ledger)
    else:
        users.require(session, "enter")
    return attachment


def set_description(session: Session, attachment_id: int, description: str | None) -> None:
    """The description may change at any time (a wrongly attached file is
    marked so); the audit log keeps the old text."""
    attachment = _owned(session, attachment_id)
    text = (description or "").strip() or None
    if attachment.description != text:
        attachment.description = text
        session.flush()


def remove(session: Session, attachment_id: int, reason: str) -> None:
    """Remove an attachment the guard lets go (an unsubmitted record not
    filed in an archive, or one whose retention has ended)."""
    attachment = _owned(session, attachment_id)
    if not (reason or "").strip():
        raise UserError("删除附件需要说明原因")
    refusal = attachment_refusal(session, attachment)
    if refusal is not None:
        raise refusal
    own = (attachment.ledger, attachment.record_id)
    for table, column in _references():
        query = select(table.c.id).where(column == attachment.id)
        if table.name == own[0]:
            query = query.where(table.c.id != own[1])
        user = session.execute(query.limit(1)).first()
        if user is not None:
            raise UserError(f"附件「{attachment.filename}」被{_table_label(table.name)}（编号 {user.id}）引用，不能删除")
    with _reason(session, reason.strip()):
        _release_record_column(session, attachment)
        session.delete(attachment)
        session.flush()


def _release_record_column(session: Session, attachment: Attachment) -> None:
    """The record's own column passes to its next attachment, if any."""
    declaration = registry().get(attachment.ledger or "")
    column = attachment_field(declaration) if declaration is not None else None
    record = session.get(declaration.model, attachment.record_id) if column and attachment.record_id else None
    if record is not None and getattr(record, column) == attachment.id:
        others = session.scalar(select(Attachment.id).where(
            Attachment.ledger == attachment.ledger, Attachment.record_id == attachment.record_id,
            Attachment.id != attachment.id).order_by(Attachment.id).limit(1))
        setattr(record, column, others)
        session.flush()


def _references():
    """(table, column) of every column that points at an attachment."""
    from app.models import Base

    return [(table, fk.parent) for table in Base.metadata.sorted_tables for fk in table.foreign_keys
            if fk.column.table.name == "attachment"]


def _table_label(table_name: str) -> str:
    declaration = registry().get(table_name)
    return declaration.title if declaration is not None else table_name


# ------------------------------------------------------------------ pictures


THUMBNAIL_SIZE = 160
_pdfium = threading.Lock()  # pdfium is not thread-safe: one document at a time
_thumbnails: OrderedDict[tuple[str, int], tuple[bytes | None, int]] = OrderedDict()
_THUMBNAILS_KEPT = 300


def thumbnails(session: Session, infos: Iterable[AttachmentInfo], size: int = THUMBNAIL_SIZE) -> dict[int, tuple[bytes | None, int]]:
    """``thumbnail`` of each listed attachment; a file is read from the
    database only when its picture has not been drawn before."""
    found = {}
    for info in infos:
        cached = _thumbnails.get((info.sha256, size))
        if cached is None:
            cached = thumbnail(content(session, info.id)[2], info.media_type, size, info.sha256)
        found[info.id] = cached
    return found


def thumbnail(data: bytes, media_type: str, size: int = THUMBNAIL_SIZE, digest: str | None = None,
              ) -> tuple[bytes | None, int]:
    """(PNG of at most ``size`` pixels a side, pages); None when the file
    cannot be drawn. Images turned upright as the camera meant; a PDF's first
    page rendered with pdfium. Kept by content hash: a list shown again is
    not drawn again."""
    key = (digest or hashlib.sha256(data).hexdigest(), size)
    if key in _thumbnails:
        _thumbnails.move_to_end(key)
        return _thumbnails[key]
    try:
        made = _pdf_thumbnail(data, size) if media_type == PDF else _image_thumbnail(data, size)
    except Exception:  # noqa: BLE001 — a file that cannot be drawn still lists
        made = (None, 0)
    _thumbnails[key] = made
    while len(_thumbnails) > _THUMBNAILS_KEPT:
        _thumbnails.popitem(last=False)
    return made


def _image_thumbnail(data: bytes, size: int) -> tuple[bytes, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        pages = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
        image.draft("RGB", (size, size))  # a JPEG decodes at a fraction of its size
        picture = upright(image)
        picture.thumbnail((size, size))
        return _png(picture), pages


def _pdf_thumbnail(data: bytes, size: int) -> tuple[bytes, int]:
    import pypdfium2

    with _pdfium:
        document = pypdfium2.PdfDocument(data)
        try:
            pages = len(document)
            page = document[0]
            width, height = page.get_size()
            picture = page.render(scale=size / max(width, height, 1)).to_pil()
        finally:
            document.close()
    return _png(picture), pages


def upright(image):
    """An RGB (or grey) copy turned the way the camera's orientation tag says."""
    from PIL import Image, ImageOps

    picture = ImageOps.exif_transpose(image)
    if picture.mode in ("RGB", "L"):
        return picture
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        # Transparent parts print as paper, not black.
        rgba = picture.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return picture.convert("RGB")


def _png(picture) -> bytes:
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()
