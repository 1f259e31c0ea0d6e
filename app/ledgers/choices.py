"""The shared vocabulary of the ledger declarations: kept in app/models/choices.py,
where the database's CHECK constraints (app/models/domains.py) read it too."""

from app.models.choices import *  # noqa: F401,F403


def _record_kinds() -> dict[str, str]:
    """Table name -> the record's Chinese name: what a catalogue entry, an
    attachment or an amendment names as its ledger, shown instead of the table."""
    from app.models import Base

    # The registry's mappers are a set: sorted, so documents and forms list them alike every run.
    return dict(sorted((m.class_.__tablename__, m.class_.__label__) for m in Base.registry.mappers
                       if getattr(m.class_, "__label__", None)))


RECORD_KIND = _record_kinds()
