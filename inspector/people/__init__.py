"""People workflows on scored calls, every state change audit-logged through one work-item transition
(``workitem``). Review (复核): ``review_queue`` (sampling, completing), ``verdicts`` (verdicts, added
findings, explicit scores), ``rescoring`` (the reviewed score), ``carryover`` (the review following a call
to a new rule set's analysis), ``appeals`` (申诉), ``reading`` (the review page), ``precision`` (rule
precision from verdicts), ``calibration`` (reviewers judging the same calls blind; kappa), ``backtest`` (a
candidate rule set over stored transcripts, before activation). Training and assessment (培训与考核):
``catalog``, ``competency``, ``coaching``, ``effect``, ``assessment``. The alert queue (预警处理):
``alerts``. Errors with their kinds: ``errors``; stored rule sets as these read them: ``rulesets``."""
