"""Manual fallback (R6): the pending records as a file package for the
platform's web portal, and marking them acknowledged once the user confirms
the portal took them.

The package is a ZIP: one CSV per message type (header: the idempotency key,
then the profile's platform field names), and manifest.json listing every
record it holds. Confirming reads the manifest back, so only what was in the
package is marked, and nothing already acknowledged is touched.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.errors import UserError
from app.models import OutboxEntry

from .profile import Profile

TABLE = OutboxEntry.__table__
MANIFEST = "manifest.json"


def export_package(session: Session, profile: Profile, path: str | Path) -> int:
    """Write the pending records to ``path``; how many. Their status does not change."""
    from app.services import users

    users.require(session, "export")
    rows = session.execute(
        select(TABLE.c.idempotency_key, TABLE.c.kind, TABLE.c.label, TABLE.c.payload)
        .where(TABLE.c.status == "pending").order_by(TABLE.c.created_at, TABLE.c.id)
    ).all()
    if not rows:
        raise UserError("没有待上传的记录，无需导出")
    by_kind: dict[str, list] = {}
    manifest = []
    for row in rows:
        message = profile.message(row.kind)
        if message is None:
            continue
        by_kind.setdefault(row.kind, []).append((row.idempotency_key, profile.render(row.kind, json.loads(row.payload))))
        manifest.append({"key": row.idempotency_key, "kind": row.kind, "type": message.type, "label": row.label})
    spec = profile.package
    path = Path(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for kind, records in by_kind.items():
            message = profile.message(kind)
            out = io.StringIO()
            writer = csv.writer(out)
            fields = list(message.fields.values())
            writer.writerow([profile.envelope["key"], *fields])
            for key, data in records:
                writer.writerow([key, *("" if data.get(f) is None else data[f] for f in fields)])
            archive.writestr(spec["file_name"].format(type=message.type, kind=kind), out.getvalue().encode(spec["encoding"]))
        archive.writestr(MANIFEST, json.dumps({
            "profile": profile.name,
            "exported_at": clock.now().isoformat(timespec="seconds"),
            "records": manifest,
        }, ensure_ascii=False, indent=1))
    return len(manifest)


def confirm_package(session: Session, path: str | Path, now: dt.datetime | None = None) -> int:
    """The user confirms the portal accepted this package: its records count as acknowledged."""
    from app.services import users

    users.require(session, "export")
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST))
        keys = [record["key"] for record in manifest["records"]]
    except OSError as exc:
        from app.problems import file_problem

        raise UserError(file_problem(exc, path, "无法读取上传包")) from None
    except (KeyError, ValueError, zipfile.BadZipFile):
        raise UserError(f"「{path}」不是本软件导出的上传包（不是 zip 文件，或缺少其中的清单）") from None
    receipt = json.dumps({"manual": True, "package": Path(path).name, "confirmed_by": session.info.get("actor", "system")},
                         ensure_ascii=False, sort_keys=True)
    now = now or clock.now()
    done = 0
    for start in range(0, len(keys), 500):
        done += session.execute(
            update(TABLE).where(TABLE.c.idempotency_key.in_(keys[start:start + 500]), TABLE.c.status.in_(("pending", "sent")))
            .values(status="acknowledged", acknowledged_at=now, receipt=receipt, receipt_id="manual", reason=None,
                    claim_token=None, claimed_until=None)
        ).rowcount
    return done
