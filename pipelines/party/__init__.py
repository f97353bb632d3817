"""党建引领: the party-building layer the practice is organised around.

- :mod:`~pipelines.party.domain` organisation types, roles, the default staffing standards
- :mod:`~pipelines.party.kinds` the loadable rosters and their usual Chinese headers
- :mod:`~pipelines.party.load` loading a roster in one transaction, bad rows to ``rejects``
- :mod:`~pipelines.party.generate` the synthetic city's party layer, with gaps
- :mod:`~pipelines.party.indicators` the indicators as data, the table per level, the 红黑榜
- :mod:`~pipelines.party.contacts` a grid's party contacts for dispatch (masked for viewers)
- :mod:`~pipelines.party.report` the command line's text

The SQL is in :mod:`pipelines.store.party` and :mod:`pipelines.store.party_indicators`.
"""
