"""SQL storage (SQLite, PostgreSQL, MariaDB) on SQLAlchemy Core; needs ``loyaltykit[sql]``.

Opened through the registry by URL: ``sqlite:///loyalty.db``,
``postgresql+psycopg://user@host/db``, ``mysql+pymysql://user@host/db``.
"""

from __future__ import annotations

try:
    import sqlalchemy  # noqa: F401
except ModuleNotFoundError as error:  # pragma: no cover - exercised without the extra
    from loyaltykit.errors import StorageUnavailable

    raise StorageUnavailable(
        "the SQL backend needs SQLAlchemy: pip install 'loyaltykit[sql]'"
    ) from error

from loyaltykit.storage.sql.storage import (
    SqlStorage,
    SqlUnitOfWork,
    head,
    revision,
    shown,
    upgrade,
)

__all__ = ["SqlStorage", "SqlUnitOfWork", "head", "revision", "shown", "upgrade"]
