"""The service: background work on RQ (Redis). ``queue`` (connection, timeouts, retries), ``call_job``
(one job per call), ``rescore`` (coalesced rescoring), ``follow_up`` (review sampling and alerts after an
analysis), ``webhooks`` (alert delivery), ``reconciler`` (the database repairs Redis), ``worker`` and its
``context``. Jobs are thin: they load, call the pure stages below and store the result."""
