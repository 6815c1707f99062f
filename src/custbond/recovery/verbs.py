"""What :class:`~custbond.RetentionService` does for service recovery: incidents, tasks,
cases, surveys and the recovery report (mixed into the service, like the outbox's verbs).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from custbond import _validate as v
from custbond._service_parts import ServiceParts
from custbond.commands import CloseTask, NotifyIncident
from custbond.erasure import PSEUDONYM_PREFIX
from custbond.errors import CustbondError, InvalidInput, NotFound, raise_first
from custbond.recovery.case import RecoveryCase
from custbond.recovery.events import SurveyResponse
from custbond.recovery.incidents import IncidentDeclared, IncidentNotices
from custbond.recovery.metrics import (
    RecoveryReport,
    TrendPoint,
    recovery_report,
    survey_history,
    survey_trend,
)
from custbond.tasks import Task

if TYPE_CHECKING:
    from custbond.program import CustomerState

__all__ = ["RecoveryVerbs"]


class RecoveryVerbs(ServiceParts):
    """Incidents, tasks, recovery cases, surveys and the recovery report."""

    # -- incidents -------------------------------------------------------------------------

    def declare_incident(self, incident: IncidentDeclared) -> IncidentNotices:
        """Tell every customer ``incident`` affects, before they notice: the policy's
        notice (``RecoveryPolicy.incident_notice``) and its goodwill gestures, once per
        customer, however often the call is repeated.

        Each customer is told in a unit of work of their own, kept in the event log
        under the incident and the customer: a call that stops half-way (a crash, a lost
        connection) is finished by calling again with the same incident. Customers and
        purchases the service does not know are reported, not created (a customer unknown
        at the first call and known at a later one is told then). When telling one
        customer fails, the others are still told; the first error is raised at the end,
        with a note naming every customer it failed for. The same incident id declared
        again with other words or another severity raises
        :class:`~custbond.IdempotencyConflict` for the customers already told.
        """
        if not isinstance(incident, IncidentDeclared):
            raise InvalidInput("incident", incident, "an IncidentDeclared")
        now = self.clock.now()
        affected, unknown = self._affected(incident)
        notified: list[str] = []
        already: list[str] = []
        failed: list[tuple[str, CustbondError]] = []
        for customer_id in affected:
            notice = NotifyIncident(
                incident_id=incident.id,
                customer_id=customer_id,
                at=incident.at,
                what=incident.what,
                severity=incident.severity,
            )
            with self.store.unit_of_work(write=False) as uow:
                known = uow.load(customer_id) is not None
                told = known and uow.logged(notice.log_key) is not None
            if not known:
                unknown.append(customer_id)
                continue
            try:
                self._process(notice, now)
            except CustbondError as error:
                failed.append((customer_id, error))
                continue
            (already if told else notified).append(customer_id)
        raise_first(failed, "declare_incident(): telling")
        return IncidentNotices(tuple(notified), tuple(already), tuple(sorted(unknown)))

    def _affected(self, incident: IncidentDeclared) -> tuple[list[str], list[str]]:
        """The customers ``incident`` names or whose purchases it names, and the
        purchases nobody knows (as ``"purchase <id>"``)."""
        customers = set(incident.customer_ids)
        unknown = []
        with self.store.unit_of_work(write=False) as uow:
            for purchase_id in incident.purchase_ids:
                record = uow.purchase(purchase_id)
                # An erased customer's purchases are kept under a pseudonym: nobody to tell.
                if record is None or record.customer_id.startswith(PSEUDONYM_PREFIX):
                    unknown.append(f"purchase {purchase_id}")
                else:
                    customers.add(record.customer_id)
        return sorted(customers), unknown

    # -- tasks -----------------------------------------------------------------------------

    def tasks(
        self,
        owner: str | None = None,
        *,
        customer_id: str | None = None,
        due_before: datetime | None = None,
        open_only: bool = True,
    ) -> tuple[Task, ...]:
        """The tasks of ``owner`` (everyone's when None), about ``customer_id`` (every
        customer's when None), due before ``due_before`` (any time when None), open ones
        only unless ``open_only=False``; soonest due first."""
        if owner is not None:
            v.identifier("owner", owner)
        if customer_id is not None:
            v.identifier("customer_id", customer_id)
        if due_before is not None:
            v.aware("due_before", due_before)
        if not isinstance(open_only, bool):
            raise InvalidInput("open_only", open_only, "True or False")
        with self.store.unit_of_work(write=False) as uow:
            found = uow.tasks(
                owner=owner, customer_id=customer_id, due_before=due_before, open_only=open_only
            )
        return tuple(found)

    def close_task(self, key: str, result: str | None = None) -> Task:
        """Close the task ``key`` with ``result`` (the owner's words): the task as it
        now stands. Closing it again with the same result changes nothing; with another
        result it raises :class:`~custbond.IdempotencyConflict`.
        :class:`~custbond.NotFound` for a key no task has."""
        self._process(CloseTask(task_key=key, result=result), self.clock.now())
        with self.store.unit_of_work(write=False) as uow:
            task = uow.task(key)
        assert task is not None  # it was just closed
        return task

    # -- cases and surveys -----------------------------------------------------------------

    def cases(self, customer_id: str) -> tuple[RecoveryCase, ...]:
        """The customer's recovery cases, oldest first."""
        v.identifier("customer_id", customer_id)
        with self.store.unit_of_work(write=False) as uow:
            state = self._load(uow, customer_id)
        return tuple(sorted(state.cases.values(), key=lambda case: (case.filed_at, case.id)))

    def case(self, customer_id: str, complaint_id: str) -> RecoveryCase:
        """The recovery case of the complaint ``complaint_id``;
        :class:`~custbond.NotFound` when the customer filed no such complaint."""
        v.identifier("customer_id", customer_id)
        v.identifier("complaint_id", complaint_id)
        with self.store.unit_of_work(write=False) as uow:
            state = self._load(uow, customer_id)
        case = state.cases.get(complaint_id)
        if case is None:
            raise NotFound("complaint", complaint_id)
        return case

    def surveys(self, customer_id: str) -> tuple[SurveyResponse, ...]:
        """The customer's survey answers, oldest first."""
        v.identifier("customer_id", customer_id)
        with self.store.unit_of_work(write=False) as uow:
            state = self._load(uow, customer_id)
        return survey_history(state)

    def survey_trend(
        self, *, by: str = "month", scale: str = "nps", customer_id: str | None = None
    ) -> tuple[TrendPoint, ...]:
        """Survey answers on ``scale`` grouped ``by`` month (in the program's time zone)
        or by category: one customer's (``customer_id``) or everyone's. See
        :func:`custbond.recovery.survey_trend`."""
        if customer_id is not None:
            answers: list[SurveyResponse] = list(self.surveys(customer_id))
        else:
            answers = [answer for state in self._everyone() for answer in state.surveys]
        policy = self.program.recovery
        low_csat = 2 if policy is None else policy.low_csat
        zone = self.program.time_zone
        return survey_trend(answers, by=by, zone=zone, scale=scale, low_csat=low_csat)

    def recovery_report(self, *, since: datetime, until: datetime | None = None) -> RecoveryReport:
        """How complaints filed from ``since`` (included) to ``until`` (excluded) were
        handled, or, with ``until`` left at None, up to and including now (a complaint
        filed at this very moment is counted): times to acknowledge and to resolve,
        breaches, compensation cost, and whether the customers kept buying, compared
        with those who did not complain. See :func:`custbond.recovery.recovery_report`.
        It reads every customer."""
        now = self.clock.now()
        return recovery_report(
            self._everyone(),
            since=since,
            until=until,
            now=now,
            policy=self.program.recovery,
            currency=self.program.currency,
        )

    def _everyone(self) -> Iterator[CustomerState]:
        """Every customer's state, read in one unit of work."""
        with self.store.unit_of_work(write=False) as uow:
            states = [uow.load(customer_id) for customer_id in uow.customer_ids()]
        return iter([state for state in states if state is not None])
