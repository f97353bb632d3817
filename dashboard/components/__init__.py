"""Pieces shared by the pages: the app shell (header, nav, user badge, breadcrumb), KPI tiles, tables,
the ticker and grid panels, the incident panel, and the URL helpers (the URL is the whole state)."""
