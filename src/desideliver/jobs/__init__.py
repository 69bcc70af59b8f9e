"""Background jobs on procrastinate: queued in PostgreSQL, in the caller's transaction, run by `desideliver worker`.

The tasks live with their apps (`orders/tasks.py`, `tickets/tasks.py`; procrastinate's Django app
imports every installed app's `tasks` module); this package holds what they share: the retry
policy, e-mail sending, the worker and its healthcheck.
"""
