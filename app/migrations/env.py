from alembic import context

from app.models import Base
from app.search_index import include_object

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("migrations run from code: app.db.upgrade(engine)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
    compare_type=True,
    include_object=include_object,  # the derived search and sort indexes are not in the models
)
with context.begin_transaction():
    context.run_migrations()
