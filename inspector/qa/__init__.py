"""The QA engine: a ``Transcript`` and a rule set in, findings and a score out.

``rules`` (schema, loader, operators, engine) evaluates the YAML rule files; ``scoring`` turns hits into
dimension scores and 红黄蓝 alert levels; ``emotion`` scores customer sentiment; ``analysis`` runs
speech + rules for one call; ``evaluate`` measures transcripts and findings against references.
It never touches storage or the service."""
