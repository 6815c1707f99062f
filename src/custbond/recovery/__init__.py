"""Service recovery and feedback: complaints, their targets and escalation, compensation,
follow-up, incidents and surveys. See ``docs/recovery.md``.

A complaint (:class:`~custbond.ComplaintFiled`) opens a :class:`RecoveryCase` in the
customer's state, with deadlines from the program's :class:`RecoveryPolicy` (in business
hours on a :class:`BusinessCalendar`), escalation steps that ``run_due()`` fires when a
deadline passes, and an offer from the :class:`CompensationLadder`. Acknowledging it
sends the apology; resolving it gives the compensation and schedules the follow-up task
and the survey. :meth:`~custbond.RetentionService.declare_incident` warns the customers
an :class:`IncidentDeclared` affects. :func:`recovery_report` and :func:`survey_trend`
measure how it went.

>>> from datetime import timedelta
>>> policy = RecoveryPolicy(targets={"high": Targets(acknowledge=timedelta(hours=4),
...                                                  resolve=timedelta(days=1))})
>>> policy.targets_for(Severity.HIGH).resolve
datetime.timedelta(days=1)
"""

# Only modules that do not import custbond.events or the program at run time:
# custbond.events imports this package (for the recovery events) while it is itself
# being imported.
from custbond.recovery.calendar import BusinessCalendar
from custbond.recovery.case import CaseStep, RecoveryCase
from custbond.recovery.compensation import (
    Apology,
    Compensation,
    CompensationLadder,
    Gesture,
    GoodwillPoints,
    GoodwillVoucher,
    Refund,
    Rung,
)
from custbond.recovery.events import (
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
    SurveyResponse,
)
from custbond.recovery.incidents import IncidentDeclared, IncidentNotices
from custbond.recovery.metrics import (
    Cohort,
    Cost,
    Durations,
    RecoveryReport,
    TrendPoint,
    recovery_report,
    survey_history,
    survey_trend,
)
from custbond.recovery.policy import Escalation, FollowUp, RecoveryPolicy, SurveyInvite, Targets
from custbond.recovery.severity import Severity
from custbond.tasks import Task

__all__ = [
    "Apology",
    "BusinessCalendar",
    "CaseStep",
    "Cohort",
    "Compensation",
    "CompensationLadder",
    "ComplaintAcknowledged",
    "ComplaintFiled",
    "ComplaintResolved",
    "Cost",
    "Durations",
    "Escalation",
    "FollowUp",
    "Gesture",
    "GoodwillPoints",
    "GoodwillVoucher",
    "IncidentDeclared",
    "IncidentNotices",
    "RecoveryCase",
    "RecoveryPolicy",
    "RecoveryReport",
    "Refund",
    "Rung",
    "Severity",
    "SurveyInvite",
    "SurveyResponse",
    "Targets",
    "Task",
    "TrendPoint",
    "recovery_report",
    "survey_history",
    "survey_trend",
]
