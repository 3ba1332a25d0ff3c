"""Simulation track: the Potjans & Diesmann (2014) cortical microcircuit on NEST and PyNN.

- :mod:`.pd14_params`: the published parameters and the scaling rules;
- :mod:`.pd14_nest`, :mod:`.pd14_pynn`: the network in PyNEST and through PyNN;
- :mod:`.run`: one measured run (phases, kernel timers, RTF, events, memory, energy);
- :mod:`.validate`: activity and rate / ISI-CV / correlation distributions against a
  reference ensemble of seeds;
- :mod:`.cells`: what one pipeline job does (run or validate a cell, write its fragment).
"""
