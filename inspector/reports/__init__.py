"""Reports read from the store: ``rollup`` (the ``agent_days`` sums every report reads), ``scorecards``
(one agent), ``leaderboards`` (one team), ``agent_summary`` (the CSV/XLSX export), ``call_report`` (the
Chinese per-call QA report and the per-agent summary table) and ``stored_calls`` (stored calls scored
again from their transcripts, for ``inspector report``)."""
