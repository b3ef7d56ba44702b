"""Chain analytics: the questions analysts and relationship managers ask of the graph.

Each module returns plain dataclasses (the API translates them): `tiers` (upstream and
downstream tiers, trade paths), `ownership` (effective ownership, UBOs, actual controller,
controlled group), `related` (related parties with the links that explain them),
`guarantees` (guarantee circles and chains), `trade` (circular trade, four-flow check,
duplicate pledges), `exposure` (per group and per core chain) and `prospects`.
"""
