# Simulation track (PD14 on NEST / PyNN): rules arrive with the simulation package.


def simulation_metric_fragments():
    return []


def simulation_provenance_files():
    return []
