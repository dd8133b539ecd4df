"""The trigger: a quick pre-check of label quality before a full clean.

:func:`check` estimates the fraction of wrong labels with an interval, ranks the
classes by estimated noise, lists the most confused pairs and the duplicates with
conflicting labels, and recommends whether (and where) to clean. The arithmetic is in
:mod:`pico.trigger.estimate`.
"""

from .check import CheckResult, CheckSettings, check

__all__ = ["CheckResult", "CheckSettings", "check"]
