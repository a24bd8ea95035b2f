"""Response models of the API, one module per resource: they are the ``response_model`` of every JSON
route, so ``/docs`` and ``/openapi.json`` document each body, and they build those bodies from rows.

Field names, order and values are exactly the JSON the routes answered before there were models (a
``StrEnum`` serializes to its string; numbers stored as JSON keep ``int | float``). ``errors`` holds the
error body (``ErrorOut``) and the ``responses=`` helper every router uses.
"""
