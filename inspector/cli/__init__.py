"""The command line: ``main`` (the parser, the speech and QA commands on files, one-line errors) and one
module per group of service commands (``serve``, ``calls``, ``reports``, ``tokens``, ``users``, ``rules``,
``review``), with ``connect`` (settings, database, queue) and ``output`` (analyzed calls as JSON or tables).
The only engine code that may import ``api`` (to serve it).
"""
