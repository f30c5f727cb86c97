"""Demo data and simulation: the demo city, its loaders and the month-long simulation.

Nothing in production (``yiwang``, ``gateway``, the services' code) imports this package;
``make up`` runs its loaders, ``make simulate`` its simulation, and tests and benches
generate the demo city from it.
"""
