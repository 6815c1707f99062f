"""Recovery measured: how fast complaints are answered, what they cost, whether the
customers who complained keep buying, and what survey answers say over time.

Everything here is a pure function of values (customer states, survey answers) and the
moments it is given; nothing reads a clock. :func:`recovery_report` measures the
complaints *filed* from ``since`` (included) to ``until`` (excluded, so that one month's
report ends where the next one's begins), as they stand at ``now``; without ``until``,
up to and including ``now`` (a complaint filed at that very moment is counted):

- **cases**: complaints filed in the period. **acknowledged**: those whose acknowledge
  target was met (a resolved case counts as acknowledged by its resolution at the
  latest, as :meth:`~custbond.recovery.RecoveryCase.met_at` says). **resolved**: those
  resolved.
- **time to acknowledge / resolve**: from filing to the target being met, for the cases
  that met it, as :class:`Durations` (count, mean, median, longest). Wall-clock time;
  and, when the policy has a business calendar, the same measured in business time
  (``policy.elapsed``). A target met before the filing (clocks that disagree) counts as
  no time at all.
- **breaches**: per target (``"acknowledge"``, ``"resolve"``), the cases that missed it:
  met after the deadline, or still not met at ``now`` with the deadline passed (an open
  case past its deadline is a breach already). A case that missed both counts once under
  each. A severity without targets has no deadline, so it is never breached.
  **escalations**: the escalation steps that fired, over all the cases.
- **compensation**: the :class:`Cost` of what the cases' customers were given (points,
  vouchers, refunds, and all of it in money, a point being worth the ladder's
  ``point_value``), in the report's currency; compensation given in another currency is
  not added in but counted in ``Cost.skipped``, so a mixed book never fails the report.
- **by severity / by category**: cases per severity (where each case stands now: an
  escalation may have raised it) and per category.
- **cohorts**: every customer in exactly one :class:`Cohort`, by their complaints filed
  in the period:

  - ``"recovered"``: complained, and every such case was resolved with no breach;
  - ``"breached"``: complained, and some case missed a target (as above);
  - ``"open"``: complained, no case missed a target, and some case is not resolved;
  - ``"did not complain"``: filed no complaint in the period.

  A customer **kept buying** when they bought after their reference moment: for those
  who complained, the latest moment one of their period's cases came to rest, its
  resolution or, for a case not resolved, its filing; for those who did not complain,
  ``since``. The evidence is ``activity.last_purchase_at``, the customer's latest
  purchase: it tells *whether* they bought after that moment, not how often or how
  much (purchases are counted only through the last one), nor whether it was returned.
  A cohort's ``share`` is kept buying / customers, rounded to 3 places half to even.

A customer whose high-severity complaint was answered within the hour and resolved the
next day, who bought again nine days later, beside one who did not complain:

>>> from datetime import datetime, timedelta, timezone
>>> import attrs
>>> from custbond._frozen import FrozenMap
>>> from custbond.activity import Activity
>>> from custbond.customers import Customer
>>> from custbond.program import CustomerState
>>> from custbond.recovery.case import RecoveryCase
>>> from custbond.recovery.compensation import Compensation
>>> filed = datetime(2026, 3, 6, 9, tzinfo=timezone.utc)
>>> case = RecoveryCase.open(
...     id="cmp-1", category="late delivery", severity="high", filed_at=filed,
...     acknowledge_by=filed + timedelta(hours=4), resolve_by=filed + timedelta(days=2),
... )
>>> case = attrs.evolve(
...     case, acknowledged_at=filed + timedelta(minutes=40),
...     resolved_at=filed + timedelta(days=1), given=Compensation(points=500),
... )
>>> ana = CustomerState(
...     Customer("c-1"), cases=FrozenMap({"cmp-1": case}),
...     activity=Activity(purchases=4, last_purchase_at=filed + timedelta(days=10)),
... )
>>> bo = CustomerState(Customer("c-2"))
>>> report = recovery_report(
...     [ana, bo],
...     since=datetime(2026, 3, 1, tzinfo=timezone.utc),
...     until=datetime(2026, 4, 1, tzinfo=timezone.utc),
...     now=datetime(2026, 4, 2, tzinfo=timezone.utc),
... )
>>> print(report)
Recovery of complaints filed from 2026-03-01T00:00:00+00:00 to 2026-04-01T00:00:00+00:00, as of 2026-04-02T00:00:00+00:00
1 case filed: 1 acknowledged, 1 resolved
  by severity: high 1
  by category: late delivery 1
time to acknowledge: 1 case, mean 40 minutes, median 40 minutes, longest 40 minutes
time to resolve: 1 case, mean 1 day, median 1 day, longest 1 day
breaches: none; escalations: none
compensation given in 1 case: 500 points; worth 5.00 USD
kept buying after their complaint (or, without one, since the period began):
  recovered: 1 of 1 (100.0%)
  breached: none
  open: none
  did not complain: 0 of 1 (0.0%)

Survey answers are summarised by :func:`survey_trend`, per local month or per category:
the count, the mean score, detractors, passives and promoters, and the score (NPS, or
the percentage satisfied on CSAT). :func:`survey_history` lists a customer's answers.
"""  # noqa: E501 - the doctest's first output line is one line

from __future__ import annotations

import decimal
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs
from dateutil import tz

from custbond import _validate as v
from custbond._durations import describe_duration
from custbond._frozen import FrozenMap
from custbond.errors import InvalidInput
from custbond.recovery.case import TARGETS, RecoveryCase
from custbond.recovery.events import SurveyResponse
from custbond.recovery.policy import RecoveryPolicy
from custbond.recovery.severity import Severity

if TYPE_CHECKING:
    # custbond.program imports the recovery package: only the type checker reads this.
    from custbond.program import CustomerState

__all__ = [
    "COHORTS",
    "Cohort",
    "Cost",
    "Durations",
    "RecoveryReport",
    "TrendPoint",
    "recovery_report",
    "survey_history",
    "survey_trend",
]

COHORTS = ("recovered", "breached", "open", "did not complain")
"""The cohorts of :attr:`RecoveryReport.cohorts`, in the order the report lists them."""

_ZERO = timedelta(0)
_DEFAULT_POINT_VALUE = Decimal("0.01")  # a CompensationLadder's own default
# Sums of money and points are exact whatever their size; rounding is always explicit.
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC, rounding=ROUND_DOWN, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN
)
_SCALES = ("nps", "csat")
_TREND_BY = ("month", "category")
_UNCATEGORISED = "uncategorised"


# -- small validators ----------------------------------------------------------------------


def _is_count(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    v.integer(attribute.name, value, minimum=0)


def _is_optional_span(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, timedelta) or value < _ZERO):
        raise InvalidInput(attribute.name, value, "a timedelta of zero or more, or None")


def _is_amount(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool | float) or not isinstance(value, Decimal):
        raise InvalidInput(attribute.name, value, "a Decimal")
    if not value.is_finite() or value < 0:
        raise InvalidInput(attribute.name, value, "a finite Decimal of zero or more")


def _counts(field: str, value: Any) -> FrozenMap[str, int]:
    """Any mapping of names to counts as a FrozenMap, checked."""
    if not isinstance(value, Mapping):
        raise InvalidInput(field, value, "a mapping of names to counts")
    for key, count in value.items():
        v.identifier(f"{field} key", key)
        v.integer(f"{field}[{key!r}]", count, minimum=0)
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


def _breaches(value: Any) -> FrozenMap[str, int]:
    return _counts("breaches", value)


def _by_severity(value: Any) -> FrozenMap[str, int]:
    return _counts("by_severity", value)


def _by_category(value: Any) -> FrozenMap[str, int]:
    return _counts("by_category", value)


def _fraction_to_decimal(value: Fraction, places: int) -> Decimal:
    """``value`` rounded to ``places`` decimal places, half to even, exactly."""
    scaled = round(value * 10**places)  # round() on a Fraction rounds half to even
    return Decimal(scaled).scaleb(-places)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _money(amount: Decimal, currency: str) -> str:
    """``"5.00 USD"``: at least the currency's decimal places, more only when needed."""
    places = v.minor_units(currency)
    unit = Decimal(1).scaleb(-places)
    if amount == amount.quantize(unit, context=_EXACT):
        amount = amount.quantize(unit, context=_EXACT)
    return f"{format(amount, 'f')} {currency}"


def _listing(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"


# -- values --------------------------------------------------------------------------------


@attrs.frozen
class Durations:
    """How long something took, over ``count`` cases: the ``mean`` (to the microsecond,
    half to even), the ``median`` (the mean of the two middle ones when the count is
    even) and the ``longest``. All three are None when the count is 0.

    >>> from datetime import timedelta
    >>> hours = Durations.of([timedelta(hours=1), timedelta(hours=2), timedelta(hours=6)])
    >>> hours.mean, hours.median, hours.longest
    (datetime.timedelta(seconds=10800), datetime.timedelta(seconds=7200), datetime.timedelta(seconds=21600))
    >>> Durations.of([]).describe()
    'no cases'
    """  # noqa: E501 - the doctest's output is one line

    count: int = attrs.field(validator=_is_count)
    mean: timedelta | None = attrs.field(validator=_is_optional_span)
    median: timedelta | None = attrs.field(validator=_is_optional_span)
    longest: timedelta | None = attrs.field(validator=_is_optional_span)

    def __attrs_post_init__(self) -> None:
        spans = (self.mean, self.median, self.longest)
        if self.count == 0 and any(span is not None for span in spans):
            raise InvalidInput("mean", self.mean, "None when count is 0")
        if self.count and any(span is None for span in spans):
            raise InvalidInput("mean", self.mean, f"a timedelta when count is {self.count}")

    @classmethod
    def of(cls, spans: Iterable[timedelta]) -> Durations:
        """The durations of ``spans`` (timedeltas of zero or more)."""
        ordered = sorted(spans)
        count = len(ordered)
        if not count:
            return cls(0, None, None, None)
        middle = count // 2
        median = (
            ordered[middle]
            if count % 2
            else (ordered[middle - 1] + ordered[middle]) / 2  # half to even, as timedelta
        )
        return cls(count, sum(ordered, _ZERO) / count, median, ordered[-1])

    def describe(self) -> str:
        """``"3 cases, mean 3 hours, median 2 hours, longest 6 hours"``; ``"no cases"``.
        Durations are said to the second."""
        if self.mean is None or self.median is None or self.longest is None:
            return "no cases"
        return (
            f"{_count(self.count, 'case')}, mean {describe_duration(self.mean)}, "
            f"median {describe_duration(self.median)}, "
            f"longest {describe_duration(self.longest)}"
        )


@attrs.frozen
class Cost:
    """What compensation cost, in ``currency``: goodwill ``points``, ``vouchers`` and
    ``refunds`` in money, and what all of it was ``worth`` (points valued at the
    ladder's ``point_value``). ``cases``: the cases whose compensation is counted;
    ``skipped``: those whose compensation was in another currency, not counted.

    >>> from decimal import Decimal
    >>> Cost(500, Decimal("10.00"), Decimal(0), Decimal("15.00"), cases=2).describe()
    'compensation given in 2 cases: 500 points, vouchers 10.00 USD; worth 15.00 USD'
    """

    points: int = attrs.field(validator=_is_count)
    vouchers: Decimal = attrs.field(validator=_is_amount)
    refunds: Decimal = attrs.field(validator=_is_amount)
    worth: Decimal = attrs.field(validator=_is_amount)
    currency: str = attrs.field(default="USD", kw_only=True, validator=v.is_currency)
    cases: int = attrs.field(default=0, kw_only=True, validator=_is_count)
    skipped: int = attrs.field(default=0, kw_only=True, validator=_is_count)

    def describe(self) -> str:
        """What was given, in words, and what it was worth."""
        skipped = (
            f" ({_count(self.skipped, 'case')} in other currencies not counted)"
            if self.skipped
            else ""
        )
        if not self.cases:
            return f"no compensation given in {self.currency}{skipped}"
        parts = []
        if self.points:
            parts.append(_count(self.points, "point"))
        if self.vouchers:
            parts.append(f"vouchers {_money(self.vouchers, self.currency)}")
        if self.refunds:
            parts.append(f"refunds {_money(self.refunds, self.currency)}")
        given = ", ".join(parts) or "apologies only"
        return (
            f"compensation given in {_count(self.cases, 'case')}: {given}; "
            f"worth {_money(self.worth, self.currency)}{skipped}"
        )


def _is_cohort_name(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in COHORTS:
        raise InvalidInput("name", value, f"one of {', '.join(map(repr, COHORTS))}")


@attrs.frozen
class Cohort:
    """``customers`` in the cohort ``name`` (one of :data:`COHORTS`), of whom
    ``kept_buying`` bought after their reference moment, and their ``share``
    (kept_buying / customers, to 3 places half to even; None for an empty cohort),
    computed on construction.

    >>> Cohort("recovered", 3, 2).share
    Decimal('0.667')
    >>> Cohort("open", 0, 0).describe()
    'open: none'
    """

    name: str = attrs.field(validator=_is_cohort_name)
    customers: int = attrs.field(validator=_is_count)
    kept_buying: int = attrs.field(validator=_is_count)
    share: Decimal | None = attrs.field(init=False)

    @share.default
    def _share(self) -> Decimal | None:
        if self.kept_buying > self.customers:
            raise InvalidInput(
                "kept_buying", self.kept_buying, f"at most customers ({self.customers})"
            )
        if not self.customers:
            return None
        return _fraction_to_decimal(Fraction(self.kept_buying, self.customers), 3)

    def describe(self) -> str:
        """``"recovered: 2 of 3 (66.7%)"``; ``"open: none"``."""
        if self.share is None:
            return f"{self.name}: none"
        return f"{self.name}: {self.kept_buying} of {self.customers} ({self.share * 100:.1f}%)"


def _is_moment(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    v.aware(attribute.name, value)


def _is_optional_durations(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is not None and not isinstance(value, Durations):
        raise InvalidInput(attribute.name, value, "a Durations or None")


def _is_durations(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Durations):
        raise InvalidInput(attribute.name, value, "a Durations")


def _is_cost(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Cost):
        raise InvalidInput(attribute.name, value, "a Cost")


def _cohorts(value: Any) -> tuple[Cohort, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput("cohorts", value, "a sequence of Cohort values")
    cohorts = tuple(value)
    v.distinct("cohorts", cohorts, Cohort, "a Cohort", plural="cohorts")
    return cohorts


def _is_flag(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInput(attribute.name, value, "True or False")


@attrs.frozen(kw_only=True)
class RecoveryReport:
    """Complaints filed from ``since`` (included) to ``until`` (excluded, unless
    ``until_included``: a report up to now counts what was filed at that moment),
    measured at ``now``: made by :func:`recovery_report`, which says what each measure
    means.

    ``business_time_to_acknowledge`` and ``business_time_to_resolve`` are None when the
    policy has no business calendar. ``breaches`` maps each target to the cases that
    missed it. ``cohorts`` holds the four :data:`COHORTS`, in that order.
    ``str(report)`` is :meth:`describe`.
    """

    since: datetime = attrs.field(validator=_is_moment)
    until: datetime = attrs.field(validator=_is_moment)
    until_included: bool = attrs.field(default=False, validator=_is_flag)
    now: datetime = attrs.field(validator=_is_moment)
    cases: int = attrs.field(validator=_is_count)
    acknowledged: int = attrs.field(validator=_is_count)
    resolved: int = attrs.field(validator=_is_count)
    time_to_acknowledge: Durations = attrs.field(validator=_is_durations)
    time_to_resolve: Durations = attrs.field(validator=_is_durations)
    business_time_to_acknowledge: Durations | None = attrs.field(validator=_is_optional_durations)
    business_time_to_resolve: Durations | None = attrs.field(validator=_is_optional_durations)
    breaches: FrozenMap[str, int] = attrs.field(converter=_breaches)
    escalations: int = attrs.field(validator=_is_count)
    compensation: Cost = attrs.field(validator=_is_cost)
    by_severity: FrozenMap[str, int] = attrs.field(converter=_by_severity)
    by_category: FrozenMap[str, int] = attrs.field(converter=_by_category)
    cohorts: tuple[Cohort, ...] = attrs.field(converter=_cohorts)

    def __attrs_post_init__(self) -> None:
        if self.until_included and not self.since <= self.until:
            raise InvalidInput("until", self.until, f"a moment at or after since ({self.since})")
        if not self.until_included and not self.since < self.until:
            raise InvalidInput("until", self.until, f"a moment after since ({self.since})")
        for field in ("acknowledged", "resolved"):
            count = getattr(self, field)
            if count > self.cases:
                raise InvalidInput(field, count, f"at most cases ({self.cases})")

    def cohort(self, name: str) -> Cohort:
        """The cohort called ``name`` (one of :data:`COHORTS`)."""
        for cohort in self.cohorts:
            if cohort.name == name:
                return cohort
        raise InvalidInput("name", name, f"one of {', '.join(map(repr, COHORTS))}")

    def describe(self) -> str:
        """The report in a few lines, for people."""
        to = "up to and including" if self.until_included else "to"
        lines = [
            f"Recovery of complaints filed from {self.since.isoformat()} {to} "
            f"{self.until.isoformat()}, as of {self.now.isoformat()}",
            f"{_count(self.cases, 'case')} filed: {self.acknowledged} acknowledged, "
            f"{self.resolved} resolved",
        ]
        if self.cases:
            lines.append(f"  by severity: {_listing(self.by_severity)}")
            lines.append(f"  by category: {_listing(self.by_category)}")
        lines.append(f"time to acknowledge: {self.time_to_acknowledge.describe()}")
        lines.append(f"time to resolve: {self.time_to_resolve.describe()}")
        business = (
            ("acknowledge", self.business_time_to_acknowledge),
            ("resolve", self.business_time_to_resolve),
        )
        for target, durations in business:
            if durations is not None:
                lines.append(f"business time to {target}: {durations.describe()}")
        missed = [
            f"{_count(count, 'case')} missed the {target} target"
            for target, count in self.breaches.items()
            if count
        ]
        escalations = _count(self.escalations, "step") + " fired" if self.escalations else "none"
        lines.append(f"breaches: {', '.join(missed) or 'none'}; escalations: {escalations}")
        lines.append(self.compensation.describe())
        lines.append(
            "kept buying after their complaint (or, without one, since the period began):"
        )
        lines.extend(f"  {cohort.describe()}" for cohort in self.cohorts)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()


# -- the report ----------------------------------------------------------------------------


def _met(case: RecoveryCase, target: str) -> datetime | None:
    """When ``target`` was met, never before the filing."""
    met = case.met_at(target)
    return None if met is None else max(met, case.filed_at)


def _cohort_of(cases: list[RecoveryCase], now: datetime) -> str:
    if not cases:
        return "did not complain"
    if any(case.breached(target, now) for case in cases for target in TARGETS):
        return "breached"
    if all(case.resolved_at is not None for case in cases):
        return "recovered"
    return "open"


def _reference(cases: list[RecoveryCase], since: datetime) -> datetime:
    """The moment after which a purchase counts as keeping on buying."""
    if not cases:
        return since
    return max(
        case.resolved_at if case.resolved_at is not None else case.filed_at for case in cases
    )


def recovery_report(
    states: Iterable[CustomerState],
    *,
    since: datetime,
    until: datetime | None = None,
    now: datetime,
    policy: RecoveryPolicy | None = None,
    currency: str = "USD",
) -> RecoveryReport:
    """The :class:`RecoveryReport` of the complaints ``states``' customers filed from
    ``since`` (included) to ``until`` (excluded), as they stand at ``now``; with
    ``until=None``, up to and including ``now`` (the report's ``until`` is then ``now``
    and its ``until_included`` True). The module's documentation defines each measure.

    ``policy`` gives the business calendar (business times are measured only with one)
    and the compensation ladder's ``point_value`` (``Decimal("0.01")`` without a
    ladder). Compensation is counted in ``currency``; compensation given in another is
    skipped and counted in ``report.compensation.skipped``.

    Raises :class:`~custbond.errors.InvalidInput` for a naive moment, ``until`` not
    after ``since`` (without ``until``, ``since`` after ``now``), a ``policy`` that is not a RecoveryPolicy, a bad currency, or two
    states of the same customer.

    >>> from datetime import datetime, timezone
    >>> report = recovery_report(
    ...     [],
    ...     since=datetime(2026, 3, 1, tzinfo=timezone.utc),
    ...     until=datetime(2026, 4, 1, tzinfo=timezone.utc),
    ...     now=datetime(2026, 4, 1, tzinfo=timezone.utc),
    ... )
    >>> report.cases, report.time_to_resolve.median, report.cohort("recovered").share
    (0, None, None)
    >>> recovery_report([], since=report.until, until=report.since, now=report.now)
    Traceback (most recent call last):
    ...
    custbond.errors.InvalidInput: until must be a moment after since (2026-04-01 00:00:00+00:00); got datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """  # noqa: E501 - the doctest's traceback is one line
    since = v.aware("since", since)
    now = v.aware("now", now)
    included = until is None
    if until is None:
        until = now
        if not since <= now:
            raise InvalidInput("since", since, f"a moment at or before now ({now})")
    else:
        until = v.aware("until", until)
        if not since < until:
            raise InvalidInput("until", until, f"a moment after since ({since})")
    if policy is not None and not isinstance(policy, RecoveryPolicy):
        raise InvalidInput("policy", policy, "a RecoveryPolicy or None")
    currency = v.currency("currency", currency)
    tally = _Tally(policy, currency, now)
    seen: set[str] = set()
    for state in states:
        if state.id in seen:
            raise InvalidInput("states", state.id, "states of distinct customers")
        seen.add(state.id)
        cases = [case for case in state.cases.values() if _within(case, since, until, included)]
        for case in cases:
            tally.add_case(case)
        tally.add_customer(cases, state.activity.last_purchase_at, since)
    return tally.report(since, until, included)


def _within(case: RecoveryCase, since: datetime, until: datetime, included: bool) -> bool:
    """Whether ``case`` was filed in the period: from ``since``, to ``until`` (excluded
    unless ``included``)."""
    if included:
        return since <= case.filed_at <= until
    return since <= case.filed_at < until


class _Tally:
    """What :func:`recovery_report` counts, as it goes through the states."""

    def __init__(self, policy: RecoveryPolicy | None, currency: str, now: datetime) -> None:
        self.policy = policy
        self.calendar = None if policy is None else policy.calendar
        ladder = None if policy is None else policy.compensation
        self.point_value = _DEFAULT_POINT_VALUE if ladder is None else ladder.point_value
        self.currency = currency
        self.now = now
        self.cases = 0
        self.escalations = 0
        self.spans: dict[str, list[timedelta]] = {target: [] for target in TARGETS}
        self.business: dict[str, list[timedelta]] = {target: [] for target in TARGETS}
        self.breaches = dict.fromkeys(TARGETS, 0)
        self.points = self.given = self.skipped = 0
        self.vouchers = self.refunds = self.worth = Decimal(0)
        self.severities: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()
        self.customers: Counter[str] = Counter()
        self.kept: Counter[str] = Counter()

    def add_case(self, case: RecoveryCase) -> None:
        self.cases += 1
        self.severities[case.severity.value] += 1
        self.categories[case.category] += 1
        self.escalations += len(case.escalations)
        for target in TARGETS:
            met = _met(case, target)
            if met is not None:
                self.spans[target].append(met - case.filed_at)
                if self.policy is not None and self.calendar is not None:
                    self.business[target].append(self.policy.elapsed(case.filed_at, met))
            if case.breached(target, self.now):
                self.breaches[target] += 1
        given = case.given
        if given is None:
            return
        if given.currency != self.currency:
            self.skipped += 1
            return
        self.given += 1
        self.points += given.points
        self.vouchers = _EXACT.add(self.vouchers, given.voucher)
        self.refunds = _EXACT.add(self.refunds, given.refund)
        self.worth = _EXACT.add(self.worth, given.worth(self.point_value))

    def add_customer(
        self, cases: list[RecoveryCase], last_purchase: datetime | None, since: datetime
    ) -> None:
        cohort = _cohort_of(cases, self.now)
        self.customers[cohort] += 1
        if last_purchase is not None and last_purchase > _reference(cases, since):
            self.kept[cohort] += 1

    def report(self, since: datetime, until: datetime, included: bool) -> RecoveryReport:
        business = {
            target: None if self.calendar is None else Durations.of(self.business[target])
            for target in TARGETS
        }
        severities = self.severities
        return RecoveryReport(
            since=since,
            until=until,
            until_included=included,
            now=self.now,
            cases=self.cases,
            acknowledged=len(self.spans["acknowledge"]),
            resolved=len(self.spans["resolve"]),
            time_to_acknowledge=Durations.of(self.spans["acknowledge"]),
            time_to_resolve=Durations.of(self.spans["resolve"]),
            business_time_to_acknowledge=business["acknowledge"],
            business_time_to_resolve=business["resolve"],
            breaches=self.breaches,
            escalations=self.escalations,
            compensation=Cost(
                self.points,
                self.vouchers,
                self.refunds,
                self.worth,
                currency=self.currency,
                cases=self.given,
                skipped=self.skipped,
            ),
            by_severity={
                level.value: severities[level.value]
                for level in Severity
                if severities[level.value]
            },
            # The most frequent first; ties by name.
            by_category=dict(
                sorted(self.categories.items(), key=lambda item: (-item[1], item[0]))
            ),
            cohorts=[Cohort(name, self.customers[name], self.kept[name]) for name in COHORTS],
        )


# -- surveys -------------------------------------------------------------------------------


def _is_bucket(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    v.text("bucket", value)


def _is_scale(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in _SCALES:
        raise InvalidInput("scale", value, "'nps' or 'csat'")


def _is_positive(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    v.positive_int(attribute.name, value)


def _is_score(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    score = v.integer("score", value)
    if not -100 <= score <= 100:
        raise InvalidInput("score", value, "an int from -100 to 100")


@attrs.frozen
class TrendPoint:
    """The survey answers of one ``bucket`` (a local month, ``"2026-03"``, or a
    category): their ``count``, ``mean`` score (2 places, half to even), how many were
    ``detractors``, ``promoters`` and ``passives`` (the three add up to ``count``), and
    the ``score``: on ``scale`` ``"nps"`` the Net Promoter Score, on ``"csat"`` the
    percentage satisfied. :func:`survey_trend` defines each.

    >>> from decimal import Decimal
    >>> TrendPoint("2026-03", 4, Decimal("7.25"), 1, 2, 1, 25).describe()
    '2026-03: 4 answers, mean 7.25, NPS +25 (2 promoters, 1 passive, 1 detractor)'
    """

    bucket: str = attrs.field(validator=_is_bucket)
    count: int = attrs.field(validator=_is_positive)
    mean: Decimal = attrs.field(validator=_is_amount)
    detractors: int = attrs.field(validator=_is_count)
    promoters: int = attrs.field(validator=_is_count)
    passives: int = attrs.field(validator=_is_count)
    score: int = attrs.field(validator=_is_score)
    scale: str = attrs.field(default="nps", kw_only=True, validator=_is_scale)

    def __attrs_post_init__(self) -> None:
        if self.detractors + self.promoters + self.passives != self.count:
            raise InvalidInput(
                "passives",
                self.passives,
                f"count ({self.count}) less detractors and promoters",
            )
        if self.scale == "csat" and self.score < 0:
            raise InvalidInput("score", self.score, "a percentage from 0 to 100 on csat")

    def describe(self) -> str:
        """One line: the bucket, the count, the mean and the score with its parts."""
        parts = (
            f"{_count(self.promoters, 'promoter')}, {_count(self.passives, 'passive')}, "
            f"{_count(self.detractors, 'detractor')}"
        )
        if self.scale == "csat":
            score = f"{self.score}% satisfied"
        else:  # a sign on a positive score, as NPS is usually written: +25, 0, -40
            score = f"NPS {self.score:+d}" if self.score else "NPS 0"
        return (
            f"{self.bucket}: {_count(self.count, 'answer')}, mean {self.mean}, {score} ({parts})"
        )


def _zone(value: object) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    name = v.time_zone("zone", value)
    found = tz.gettz(name)
    assert found is not None  # checked by time_zone()
    return found


def _point(bucket: str, answers: list[SurveyResponse], scale: str, low_csat: int) -> TrendPoint:
    count = len(answers)
    top = 9 if scale == "nps" else 4
    detractors = sum(answer.is_detractor(low_csat) for answer in answers)
    promoters = sum(
        answer.score >= top and not answer.is_detractor(low_csat) for answer in answers
    )
    if scale == "nps":
        score = round(Fraction(100 * (promoters - detractors), count))
    else:
        satisfied = sum(answer.score >= 4 for answer in answers)
        score = round(Fraction(100 * satisfied, count))
    mean = _fraction_to_decimal(Fraction(sum(answer.score for answer in answers), count), 2)
    return TrendPoint(
        bucket,
        count,
        mean,
        detractors,
        promoters,
        count - detractors - promoters,
        score,
        scale=scale,
    )


def survey_trend(
    answers: Iterable[SurveyResponse],
    *,
    by: str = "month",
    zone: tzinfo | str = "UTC",
    scale: str = "nps",
    low_csat: int = 2,
) -> tuple[TrendPoint, ...]:
    """The answers on ``scale`` (``"nps"`` or ``"csat"``; answers on the other scale
    are left out), one :class:`TrendPoint` per bucket, sorted by bucket.

    ``by="month"`` buckets by the month the answer was given in local time in ``zone``
    (a tzinfo or an IANA name), as ``"2026-03"``; ``by="category"`` by the answer's
    category (none, or a blank one, is ``"uncategorised"``).

    - NPS (0 to 10): detractors score 0 to 6, passives 7 or 8, promoters 9 or 10; the
      score is 100 * (promoters - detractors) / count, from -100 to 100.
    - CSAT (1 to 5): detractors score ``low_csat`` or less (as
      :meth:`~custbond.SurveyResponse.is_detractor` says), promoters 4 or 5, passives
      the rest; the score is the percentage satisfied (4 or 5), from 0 to 100. With
      ``low_csat=4`` a 4 is both satisfied and a detractor: it counts in the score and
      among the detractors, not the promoters.

    Scores and means are rounded exactly, half to even: an NPS of 12.5 is 12, of 37.5 is
    38; a mean of 7.125 is 7.12.

    Raises :class:`~custbond.errors.InvalidInput` for ``by`` other than ``"month"`` or
    ``"category"``, an unknown scale or zone, ``low_csat`` outside 1 to 4, or an answer
    that is not a SurveyResponse.

    >>> from datetime import datetime, timezone
    >>> def answer(n, at, score):
    ...     return SurveyResponse(id=f"s-{n}", customer_id="c-1", at=at, scale="nps",
    ...                           score=score)
    >>> late_march = datetime(2026, 3, 31, 23, 30, tzinfo=timezone.utc)  # April in Paris
    >>> answers = [answer(1, datetime(2026, 3, 2, tzinfo=timezone.utc), 10),
    ...            answer(2, datetime(2026, 3, 9, tzinfo=timezone.utc), 3),
    ...            answer(3, late_march, 9)]
    >>> for point in survey_trend(answers, zone="Europe/Paris"):
    ...     print(point.describe())
    2026-03: 2 answers, mean 6.50, NPS 0 (1 promoter, 0 passives, 1 detractor)
    2026-04: 1 answer, mean 9.00, NPS +100 (1 promoter, 0 passives, 0 detractors)
    """
    if by not in _TREND_BY:
        raise InvalidInput("by", by, "'month' or 'category'")
    if scale not in _SCALES:
        raise InvalidInput("scale", scale, "'nps' or 'csat'")
    if isinstance(low_csat, bool) or not isinstance(low_csat, int) or not 1 <= low_csat <= 4:
        raise InvalidInput("low_csat", low_csat, "an int from 1 to 4")
    local = _zone(zone)
    buckets: defaultdict[str, list[SurveyResponse]] = defaultdict(list)
    for answer in answers:
        if not isinstance(answer, SurveyResponse):
            raise InvalidInput("answers", answer, "SurveyResponse values")
        if answer.scale != scale:
            continue
        if by == "month":
            at = answer.at.astimezone(local)
            bucket = f"{at.year:04d}-{at.month:02d}"
        else:
            category = answer.category
            bucket = category if category and category.strip() else _UNCATEGORISED
        buckets[bucket].append(answer)
    return tuple(_point(bucket, buckets[bucket], scale, low_csat) for bucket in sorted(buckets))


def survey_history(state: CustomerState) -> tuple[SurveyResponse, ...]:
    """The survey answers of ``state``'s customer, oldest first (answers given at the
    same moment stay in the order they were recorded).

    >>> from datetime import datetime, timezone
    >>> from custbond.customers import Customer
    >>> from custbond.program import CustomerState
    >>> later = SurveyResponse(id="s-2", customer_id="c-1", scale="csat", score=5,
    ...                        at=datetime(2026, 3, 9, tzinfo=timezone.utc))
    >>> first = SurveyResponse(id="s-1", customer_id="c-1", scale="csat", score=2,
    ...                        at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> [answer.id for answer in survey_history(CustomerState(Customer("c-1"),
    ...                                                         surveys=(later, first)))]
    ['s-1', 's-2']
    """
    return tuple(sorted(state.surveys, key=lambda answer: answer.at))
