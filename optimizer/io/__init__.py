"""Reading an input into :class:`~optimizer.io.input_data.InputData`, one module per stage (DESIGN §4).

``reading`` (cells as found) → ``cells`` (typed values) → ``settings`` and ``validation`` (every
problem, collected) → ``resolution`` (defaults, wildcards, interpolation) → ``input_data``.
:func:`optimizer.data_io.parse` runs them in order; import the public names from
:mod:`optimizer.data_io`. Nothing here imports Pyomo.
"""
