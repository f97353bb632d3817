"""The closed loop (闭环) of incidents: 上报 → 受理 → 派单 → 处置中 → 办结 → 回访评价.

- :mod:`~pipelines.incidents.machine` the state machine: one table of (status, action) → next status
- :mod:`~pipelines.incidents.intake` HTTP bodies → validated new reports and actions, one write each
- :mod:`~pipelines.incidents.repository` every read and write of the incident tables, with their SQL
- :mod:`~pipelines.incidents.view` an incident as a person sees it (detail, allowed actions, labels)
- :mod:`~pipelines.incidents.simulate` the in-process live feed of the demo
- :mod:`~pipelines.incidents.http_simulator` a client that posts and works requests over HTTP

Bulk loading of incident files stays with the other loaders (:mod:`pipelines.loaders`), which write
through :func:`~pipelines.incidents.repository.upsert_incidents`.
"""
