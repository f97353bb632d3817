"""The DuckDB store: the schema and its migrations, the connection, and one module per table family.

- :mod:`~pipelines.store.schema` every table, the schema version, the migrations of older files
- :mod:`~pipelines.store.database` :func:`connect`, :func:`transaction` and the :class:`Database`
  (connection + write lock) a server shares between threads
- :mod:`~pipelines.store.rows` bulk upsert/append of any keyed table, point rows, table counts
- :mod:`~pipelines.store.areas` grids, their H3 cover, admin levels, buildings, grid workers
- :mod:`~pipelines.store.categories` incident categories and their deadlines
- :mod:`~pipelines.store.loads` the load log and rejected rows
- :mod:`~pipelines.store.coverage` service standards (and which types are required), coverage runs,
  the walking network
- :mod:`~pipelines.store.roads` road lines for the walking network and the facility namer
- :mod:`~pipelines.store.quality` the reads of the data-quality report
- :mod:`~pipelines.store.party` the party-building tables (organisations, members, 楼栋长, 共建单位, teams,
  volunteer hours, staffing, standards) and :mod:`~pipelines.store.party_indicators` their indicators per level
- :mod:`~pipelines.store.accounts` users and API keys; :mod:`~pipelines.store.meta` settings and the change counter

The incident tables (incidents, their history, open state, assignments, intake tokens) are the closed
loop's own family: their SQL is in :mod:`pipelines.incidents.repository`.  The dashboard's read-only
aggregate queries live with the dashboard.
"""

from pipelines.store.database import Database, connect, transaction

__all__ = ["Database", "connect", "transaction"]
