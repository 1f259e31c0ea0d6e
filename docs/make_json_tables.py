"""Write the "Tables and columns" section of docs/json-format.md from the models.

    python3 docs/make_json_tables.py          # rewrite the section
    python3 docs/make_json_tables.py --check  # exit 1 if it is out of date

tests/unit/test_transfer.py runs the check, so a new column cannot be left out
of the format document.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DOC = Path(__file__).resolve().parent / "json-format.md"
BEGIN, END = "<!-- tables:begin (docs/make_json_tables.py) -->", "<!-- tables:end -->"


def _type(column) -> str:
    from sqlalchemy import Numeric, String, Text

    kind = column.type
    if isinstance(kind, Numeric):
        return f"Numeric({kind.precision}, {kind.scale})"
    if isinstance(kind, String) and not isinstance(kind, Text) and kind.length:
        return f"String({kind.length})"
    return type(kind).__name__


def tables_section() -> str:
    import app.ledgers as ledgers
    from app.models import Base
    from app.services.audit import UNAUDITED, added_later

    lines = [BEGIN, ""]
    for table in Base.metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        lg = ledgers.registry().get(table.name)
        title = f"{lg.title}（台账 `{lg.key}`）" if lg else "系统表"
        audited = "" if table.name not in UNAUDITED else "；不在审计日志中"
        lines += [f"### `{table.name}` — {title}{audited}", "",
                  "| column | type | empty | 栏目 / notes |", "|---|---|---|---|"]
        for column in table.columns:
            notes = []
            if lg and column.name in lg.field_names:
                f = lg.field(column.name)
                notes.append(f.label)
                if f.choices:
                    notes.append("取值：" + "、".join(f"`{code}`" for code in f.choices))
                notes += _declared_bounds(f, column)
            if column.foreign_keys:
                notes.append("→ " + ", ".join(f"`{fk.column.table.name}.{fk.column.name}`" for fk in column.foreign_keys))
            if column.name in added_later(table.name):
                notes.append("后加的列：为空时不计入行哈希")
            empty = "yes" if column.nullable else "no"
            lines.append(f"| `{column.name}` | {_type(column)} | {empty} | {'；'.join(notes)} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def _declared_bounds(field, column) -> list[str]:
    """Bounds the declaration adds to what the column's type implies."""
    from app.ledgers.bounds import of_column

    implied, declared = of_column(column), field.bounds
    notes = []
    if declared.low is not None and declared.low != implied.low:
        notes.append(f"≥ {declared.low}")
    if declared.high is not None and declared.high != implied.high:
        notes.append(f"≤ {declared.high}")
    if declared.max_length is not None and declared.max_length != implied.max_length:
        notes.append(f"至多 {declared.max_length} 字")
    return notes


def current(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + tables_section() + tail


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    fresh = current(text)
    if "--check" in sys.argv:
        return 0 if fresh == text else 1
    DOC.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
