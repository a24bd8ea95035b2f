"""People workflows on scored calls, every state change audit-logged through one work-item transition
(``workitem``). Review (复核): ``review_queue`` (sampling, completing), ``verdicts`` (verdicts, added
findings, explicit scores), ``rescoring`` (the reviewed score), ``appeals`` (申诉), ``reading`` (the review
page), ``precision`` (rule precision from verdicts). Training and assessment (培训与考核): ``catalog``,
``competency``, ``coaching``, ``effect``, ``assessment``. The alert queue (预警处理): ``alerts``. Errors with
their kinds: ``errors``; stored rule sets as these read them: ``rulesets``."""
