"""The command-centre web app: Dash pages over the database, and the HTTP API on the same server.

Where the boundaries are, and why:

- ``dashboard`` sits on top: it imports :mod:`pipelines` (and :mod:`geo` for shapes) and nothing
  imports it.  It reads the database through its own aggregate queries and view models, and it
  never writes SQL of its own: every write goes through :mod:`pipelines.incidents` or
  :mod:`pipelines.auth` under the :class:`~pipelines.store.Database`'s write lock.
- :mod:`dashboard.api` is transport only — parse the request, ask who is calling, call the
  pipelines, shape the answer (Open311 or JSON) and its status code — split by audience:
  ``open311`` (hotline systems, resident apps), ``incidents`` (dispatchers' JSON API),
  ``accounts`` (login, users, keys).
- :mod:`dashboard.security` is what runs before every route (413 on big bodies, security headers,
  server-side sessions from :mod:`dashboard.sessions`, Origin/CSRF checks); :mod:`dashboard.ratelimit`
  holds the per-client limits; :mod:`dashboard.server` is the production server (waitress) that
  ``serve``, the browser tests and the benchmark share.  Who may do what is asked of
  :func:`pipelines.auth.permission_allowed` by every route and by the Dash pages.
- :mod:`dashboard.cli` is the console script, here because ``serve`` and ``demo`` start this app;
  the data commands it offers come from :mod:`pipelines.cli`.
"""
