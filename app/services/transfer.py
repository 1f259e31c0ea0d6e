"""Export the whole archive to one JSON document and import it again (Qt-free).

The format is documented in docs/json-format.md. An export holds every table,
the audit log included, so that ``audit.verify`` still passes on the database
an export is imported into. Import is all-or-nothing and only into an empty
database: every value is checked against its column's bounds and every ledger
row against its form's rules (``transfer_rules``) before anything is written;
then, inside a savepoint, the audit chain and every row against its log entry
(``audit.verify``). Any error means nothing is written.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import BigInteger, Column, Table, bindparam, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, IntegrityError

import app
from app import clock
from app.errors import UserError
from app.ledgers import bounds
from app.models import Base

from . import audit, transfer_rules
from .audit import canonical_value

FORMAT = "foodarchive-archive"
VERSION = 1

BATCH = 500  # rows fetched or inserted per round trip
MAX_LISTED = 20  # row errors spelled out in an ImportFailed message


def _tables() -> list[Table]:
    """Every table, parents before children."""
    return list(Base.metadata.sorted_tables)


# ---------------------------------------------------------------- errors


@dataclass(frozen=True)
class RowError:
    table: str
    row_number: int  # 1-based; 0 for a problem with the table's column list
    column: str
    message: str  # Chinese

    def __str__(self) -> str:
        where = f"第 {self.row_number} 行" if self.row_number else "列清单"
        column = f"「{self.column}」" if self.column else ""
        return f"表 {self.table} {where}{column}：{self.message}"


class ImportFailed(UserError):
    """The archive was not imported; nothing was written."""

    def __init__(self, errors: Iterable[RowError] = (), message: str | None = None):
        self.errors = list(errors)
        super().__init__(message or self._summary())

    def _summary(self) -> str:
        lines = [f"导入失败：档案文件中有 {len(self.errors)} 处错误，没有导入任何数据。"]
        lines += [str(error) for error in self.errors[:MAX_LISTED]]
        if len(self.errors) > MAX_LISTED:
            lines.append(f"……另有 {len(self.errors) - MAX_LISTED} 处错误未列出")
        return "\n".join(lines)


# ---------------------------------------------------------------- export


def _encode(value: object) -> object:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return canonical_value(value)


def _export_table(connection: Connection, table: Table) -> dict:
    query = select(table).order_by(*table.primary_key.columns).execution_options(yield_per=BATCH)
    rows = [[_encode(value) for value in row] for row in connection.execute(query)]
    return {"columns": [column.name for column in table.columns], "rows": rows}


def export_archive(connection: Connection) -> dict:
    """The whole database as one JSON-ready dict.

    On PostgreSQL, give the connection REPEATABLE READ isolation so that all
    tables are read from one snapshot while other PCs keep writing.
    """
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": clock.now().astimezone().isoformat(timespec="seconds"),
        "app_version": app.__version__,
        "schema_revision": MigrationContext.configure(connection).get_current_revision(),
        "tables": {table.name: _export_table(connection, table) for table in _tables()},
    }


def _dump(data: dict, out) -> None:
    """JSON with one table row per line: readable, greppable, diffable."""

    def encode(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    out.write("{\n")
    for key, value in data.items():
        if key != "tables":
            out.write(f"{encode(key)}: {encode(value)},\n")
    out.write('"tables": {')
    for index, (name, block) in enumerate(data["tables"].items()):
        out.write("," if index else "")
        out.write(f'\n{encode(name)}: {{"columns": {encode(block["columns"])}, "rows": [')
        out.write(",".join("\n" + encode(row) for row in block["rows"]))
        out.write("]}")
    out.write("\n}\n}\n")


def write_archive(connection: Connection, path: str | os.PathLike) -> dict[str, int]:
    """Export into ``path`` atomically and durably; returns the number of rows per table."""
    from app.files import written_atomically

    data = export_archive(connection)
    with written_atomically(path, durable=True) as temporary:
        with open(temporary, "w", encoding="utf-8", newline="\n") as out:
            _dump(data, out)
    return {name: len(block["rows"]) for name, block in data["tables"].items()}


def read_archive(path: str | os.PathLike) -> dict:
    from app.problems import file_problem

    shown = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(file_problem(exc, shown, "无法读取文件")) from exc
    if not raw.strip():
        raise UserError(f"文件「{shown}」是空的，不是本软件导出的档案文件")
    try:
        source = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # a character cut in half at the very end
            raise UserError(_truncated(shown)) from exc
        raise UserError(f"文件「{shown}」不是 UTF-8 文本，不是本软件导出的档案文件") from exc
    try:
        data = json.loads(source)
    except json.JSONDecodeError as exc:
        # The text stops before the document is complete (a string runs to the end).
        if not source[exc.pos:].strip() or exc.msg.startswith("Unterminated string"):
            raise UserError(_truncated(shown)) from exc
        raise UserError(f"文件「{shown}」不是有效的 JSON，可能已损坏（第 {exc.lineno} 行第 {exc.colno} 列）") from exc
    if not isinstance(data, dict):
        raise UserError(f"文件「{shown}」不是本软件导出的档案文件")
    return data


def _truncated(shown: str) -> str:
    return (f"文件「{shown}」不完整：内容在结尾处被截断了（复制、下载或导出时中断，或磁盘已满）。"
            "请用完整的文件重试，或重新导出。")


# ---------------------------------------------------------------- values


class _Bad(ValueError):
    """One value does not fit its column; the message is Chinese."""


def _shown(value: object) -> str:
    shown = str(value)
    return shown if len(shown) <= 30 else shown[:30] + "…"


def _as_bool(value: object, _column: Column) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"「{_shown(value)}」不是布尔值，应为 true 或 false")
    return value


def _as_int(value: object, column: Column) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Bad(f"「{_shown(value)}」不是整数")
    limit = 2**63 if isinstance(column.type, BigInteger) else 2**31
    if not -limit <= value < limit:
        raise _Bad(f"整数 {value} 超出范围")
    return value


def _as_decimal(value: object, column: Column) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Bad(f"「{_shown(value)}」不是数值，应写成字符串，如 \"12.5\"")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _Bad(f"「{_shown(value)}」不是有效的数值") from None
    if not number.is_finite():
        raise _Bad(f"「{_shown(value)}」不是有效的数值")
    _sign, digits, exponent = number.normalize().as_tuple()
    precision, scale = column.type.precision, column.type.scale
    if scale is not None and -exponent > scale:
        raise _Bad(f"数值 {value} 的小数位超过 {scale} 位")
    if precision is not None and len(digits) + exponent > precision - (scale or 0):
        raise _Bad(f"数值 {value} 过大")
    return number


DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


def _as_date(value: object, _column: Column) -> dt.date:
    try:
        if isinstance(value, str) and DATE_PATTERN.fullmatch(value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise _Bad(f"「{_shown(value)}」不是有效的日期，应为 YYYY-MM-DD")


def _as_datetime(value: object, _column: Column) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise _Bad(f"「{_shown(value)}」不是有效的日期时间，应为 YYYY-MM-DDTHH:MM:SS")
    if moment.tzinfo is not None:
        raise _Bad(f"「{_shown(value)}」带有时区，本软件只记录当地时间")
    return moment


def _as_str(value: object, column: Column) -> str:
    if not isinstance(value, str):
        raise _Bad(f"「{_shown(value)}」不是文本")
    length = getattr(column.type, "length", None)
    if length is not None and len(value) > length:
        raise _Bad(f"长度 {len(value)} 超过上限 {length} 个字符")
    return value


def _as_bytes(value: object, _column: Column) -> bytes:
    try:
        if isinstance(value, str):
            return base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error, or characters outside ASCII
        pass
    raise _Bad("不是有效的 base64 编码")


PARSERS: dict[type, Callable[[object, Column], object]] = {
    bool: _as_bool,
    int: _as_int,
    Decimal: _as_decimal,
    dt.date: _as_date,
    dt.datetime: _as_datetime,
    str: _as_str,
    bytes: _as_bytes,
}


def _parse(value: object, column: Column) -> object:
    if value is None:
        if not column.nullable:
            raise _Bad("不能为空")
        return None
    parsed = PARSERS[column.type.python_type](value, column)
    reason = bounds.check(parsed, bounds.of_column(column))  # what the flush guard holds every write to
    if reason:
        raise _Bad(reason)
    return parsed


# ---------------------------------------------------------------- validation

# Validated rows of one table: (1-based row number in the file, values by column).
Rows = list[tuple[int, dict[str, object]]]


def _check_columns(table: Table, names: object, errors: list[RowError]) -> bool:
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        errors.append(RowError(table.name, 0, "", "columns 应为列名的列表"))
        return False
    ok = True
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(RowError(table.name, 0, name, "列名重复"))
        ok = False
    for name in names:
        if name not in table.c:
            errors.append(RowError(table.name, 0, name, "本软件的这张表没有此列"))
            ok = False
    for column in table.columns:
        if column.name not in names and not column.nullable:
            errors.append(RowError(table.name, 0, column.name, "档案中缺少此列，而此列不能为空"))
            ok = False
    return ok


def _validate_table(table: Table, block: object, errors: list[RowError]) -> Rows:
    if not isinstance(block, dict) or not isinstance(block.get("rows"), list):
        errors.append(RowError(table.name, 0, "", "格式不对：应有 columns 和 rows 两项"))
        return []
    names = block.get("columns")
    if not _check_columns(table, names, errors):
        return []
    absent = {column.name: None for column in table.columns if column.name not in names}
    rows: Rows = []
    for number, raw in enumerate(block["rows"], 1):
        if not isinstance(raw, list) or len(raw) != len(names):
            errors.append(RowError(table.name, number, "", f"应有 {len(names)} 个值"))
            continue
        row = dict(absent)
        for name, value in zip(names, raw):
            try:
                row[name] = _parse(value, table.c[name])
            except _Bad as bad:
                errors.append(RowError(table.name, number, name, str(bad)))
        rows.append((number, row))
    return rows


def _check_keys(table: Table, rows: Rows, errors: list[RowError]) -> None:
    seen: set[object] = set()
    for number, row in rows:
        key = row.get("id")
        if key in seen:
            errors.append(RowError(table.name, number, "id", f"编号 {key} 重复"))
        seen.add(key)


def _check_references(prepared: dict[str, Rows], errors: list[RowError]) -> None:
    """Every foreign key must point at a row of the archive: the target database is empty."""
    targets: dict[tuple[str, str], set[object]] = {}
    for table in _tables():
        for fk in table.foreign_keys:
            parent, target = fk.parent.name, (fk.column.table.name, fk.column.name)
            if target not in targets:
                targets[target] = {row.get(target[1]) for _n, row in prepared.get(target[0], [])}
            for number, row in prepared[table.name]:
                value = row.get(parent)
                if value is not None and value not in targets[target]:
                    message = f"引用的 {target[0]} 编号 {value} 在档案中不存在"
                    errors.append(RowError(table.name, number, parent, message))


def _validate(tables: object) -> dict[str, Rows]:
    if not isinstance(tables, dict):
        raise ImportFailed(message="档案文件缺少 tables 部分，不是本软件导出的完整档案")
    errors: list[RowError] = []
    for name in tables:
        if name not in Base.metadata.tables:
            errors.append(RowError(str(name), 0, "", "本软件没有这张表"))
    prepared: dict[str, Rows] = {}
    for table in _tables():
        block = tables.get(table.name, {"columns": [c.name for c in table.columns], "rows": []})
        prepared[table.name] = _validate_table(table, block, errors)
        _check_keys(table, prepared[table.name], errors)
    if not errors:
        _check_references(prepared, errors)
    if not errors:
        errors += [RowError(*problem) for problem in transfer_rules.problems(prepared)]
    if errors:
        raise ImportFailed(errors)
    return prepared


def _check_header(data: object) -> None:
    if not isinstance(data, dict):
        raise ImportFailed(message="档案文件的内容不是一个 JSON 对象，不是本软件导出的档案")
    found = data.get("format")
    if found != FORMAT:
        raise ImportFailed(message=f"这不是本软件导出的档案文件：format 应为「{FORMAT}」，文件中是「{found}」")
    version = data.get("version")
    if type(version) is not int or version != VERSION:
        hint = "，请升级本软件后再导入" if type(version) is int and version > VERSION else ""
        raise ImportFailed(message=f"不支持的档案格式版本：本软件能导入第 {VERSION} 版，文件是「{version}」{hint}")


def _check_empty(connection: Connection) -> None:
    filled = [t.name for t in _tables() if connection.execute(select(t.c.id).limit(1)).first() is not None]
    if filled:
        shown = "、".join(filled[:5]) + ("等" if len(filled) > 5 else "")
        raise ImportFailed(message=f"只能导入到空数据库：当前数据库已有数据（表 {shown}）。请新建一个空数据库后再导入。")


# ---------------------------------------------------------------- import


def _chunks(rows: list[dict]) -> Iterator[list[dict]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _insert_table(connection: Connection, table: Table, rows: list[dict]) -> None:
    # A row may cite a later row of its own table (archive.cites_archive_id):
    # insert such references empty, then fill them in once all rows exist.
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table and fk.parent.nullable]
    for chunk in _chunks([{**row, **dict.fromkeys(own)} for row in rows]):
        connection.execute(insert(table), chunk)
    for name in own:
        links = [{"b_id": row["id"], "b_ref": row[name]} for row in rows if row[name] is not None]
        if links:
            statement = update(table).where(table.c.id == bindparam("b_id"))
            connection.execute(statement.values({name: bindparam("b_ref")}), links)


def _reset_sequences(connection: Connection, counts: dict[str, int]) -> None:
    """PostgreSQL hands out ids from sequences that the inserts did not advance."""
    if connection.dialect.name != "postgresql":
        return
    for table in _tables():
        if counts[table.name]:
            name = connection.dialect.identifier_preparer.format_table(table)
            statement = text(f"SELECT setval(pg_get_serial_sequence(:name, 'id'), max(id)) FROM {name}")
            connection.execute(statement, {"name": name})


def _check_chain(connection: Connection) -> None:
    """The rows as the database now holds them, checked by ``verify`` before
    the savepoint is released: the audit log's hash chain is unbroken, every
    row matches its last log entry, every signature holds. Checking the
    stored rows (not the file's text) means the hashes are those of the values
    the database keeps, as ``verify`` will read them later. A finding rolls
    the savepoint back: nothing of the file stays."""
    findings = audit.verify(connection)
    if findings:
        lines = [f"导入失败：档案文件的审计日志与数据不符（{len(findings)} 处），文件被改动过或不完整，没有导入任何数据。"]
        lines += [finding.message for finding in findings[:MAX_LISTED]]
        if len(findings) > MAX_LISTED:
            lines.append(f"……另有 {len(findings) - MAX_LISTED} 处不符未列出")
        raise ImportFailed(message="\n".join(lines))


def import_archive(connection: Connection, data: dict) -> dict[str, int]:
    """Import an exported archive into an empty database; rows per table.

    Runs in the caller's transaction, which the caller commits. Raises
    ImportFailed, having written nothing, if anything is wrong.
    """
    _check_header(data)
    _check_empty(connection)
    prepared = _validate(data.get("tables"))
    counts = {name: len(rows) for name, rows in prepared.items()}
    current = None
    try:
        with connection.begin_nested():
            for current in _tables():
                _insert_table(connection, current, [row for _number, row in prepared[current.name]])
            current = None
            _reset_sequences(connection, counts)
            _check_chain(connection)
    except (IntegrityError, DataError) as exc:
        where = f"表 {current.name} 的数据" if current is not None else "数据"
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else ""
        message = f"导入失败：{where}违反了数据库的约束（如外键、唯一性或检查规则），没有导入任何数据。"
        raise ImportFailed(message=f"{message}\n数据库的说明：{reason}") from exc
    return counts
