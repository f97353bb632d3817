"""Everything that moves data: readers, validation, loaders, the generator, the store, the closed loop.

Where the boundaries are, and why:

- ``pipelines`` owns the database file.  Every write — a file load, the generator, a coverage run,
  an Open311 request, a dispatcher's action, the live feed — goes through code in this package,
  so the rules that keep the tables consistent (derived tables in step, history appended in the
  same transaction, the change counter bumped) live in one place and run without a web server.
  It imports :mod:`geo` and never :mod:`dashboard`: the console script that adds ``serve`` sits in
  :mod:`dashboard.cli`.
- :mod:`pipelines.vocabulary` spells the shared words once (levels, statuses, actions, affair
  classes, their labels) and builds the SQL filters from them; :mod:`pipelines.domain` holds the
  city's constants (categories, facility types, life circles).
- :mod:`pipelines.store` is the storage layer: the schema and its migrations, the connection and
  the one write lock (:class:`~pipelines.store.Database`), and one module per table family with
  its SQL beside its functions.  Nothing outside a family's module writes SQL for that family.
- :mod:`pipelines.incidents` is the closed loop as a domain: the state machine is data (one
  table), intake validates before it writes, the repository is the incident family's SQL, and the
  view is what the API and the dashboard panel both show.  :mod:`pipelines.party` is the party-building
  layer (党建引领): its rosters' kinds and loader, its generator, its indicators and 红黑榜, and the
  grid's party contacts the incident view suggests.  The loaders, the generator and
  :mod:`pipelines.coverage` are the batch side and stay flat at this level.
"""
