"""Risk scoring: contagion simulation, exposure networks, learned fraud and default scores.

``contagion`` holds the pure algorithms (DebtRank, Eisenberg–Noe clearing, Monte-Carlo
cascades); ``exposure`` builds their input from the graph; the learned models, training,
registry and scoring build on those.
"""
