"""Every value a store keeps as a row comes back equal: x_from_row(x_row(x)) == x."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from dateutil import tz
from dateutil.relativedelta import MO, relativedelta
from hypothesis import given
from hypothesis import strategies as st

from custbond import (
    Adjust,
    Balance,
    Birthday,
    CancelRedemption,
    CaptureHold,
    Customer,
    CustomerState,
    CustomEvent,
    Entry,
    EntryKind,
    LineItem,
    PlaceHold,
    Purchase,
    Redeem,
    ReleaseHold,
    Return,
    SaveCustomer,
    Signup,
    Visit,
)
from custbond._frozen import FrozenMap, empty_map
from custbond.activity import Activity
from custbond.bonds import Voucher, VoucherOffer, VoucherStatus
from custbond.commands import CloseTask, NotifyIncident, SetConsent, Settle
from custbond.effects import (
    AddStamps,
    AddTag,
    AdjustPoints,
    CapturePoints,
    CountUse,
    EarnPoints,
    FinishTask,
    HoldPoints,
    IssueVoucher,
    NotePurchase,
    NoteSurvey,
    NoteVisit,
    OpenTask,
    RedeemPoints,
    ReleasePoints,
    RequestMessage,
    RestorePoints,
    ReversePoints,
    SetCard,
    SetCase,
    SetProgress,
    SetTier,
    UpdateProfile,
)
from custbond.events import (
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
    SurveyResponse,
)
from custbond.ledger import Draw, Hold, Ledger, Lot
from custbond.messaging.consent import Consent, consent_key
from custbond.outcome import Outcome
from custbond.records import HoldRecord, HoldStatus, PurchaseRecord, RedemptionRecord
from custbond.recovery.case import RecoveryCase, Timer
from custbond.recovery.compensation import Compensation
from custbond.recovery.severity import Severity
from custbond.rules.trace import Step, Trace, Verdict
from custbond.storage import _codec as codec
from custbond.storage import _rows as rows
from custbond.storage._rowlog import CHUNK, RowLog
from custbond.tasks import Task

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
LOT = Lot(3, "o-1", 40, 25, T0, T0 + timedelta(days=14), T0 + timedelta(days=365))
ENDLESS = Lot(4, "adj-1", 10, 10, T0, T0, None)
DRAWS = (Draw(LOT, 15), Draw(ENDLESS, 2))
ADA = Customer(
    "ada",
    name="Ada",
    email="ada@example.com",
    time_zone="Europe/London",
    birthday=Birthday(month=2, day=29),
    tags={"oat", "early"},
    preferences={"size": "large"},
)
ORDER = Purchase(
    id="o-1",
    customer_id="ada",
    at=T0,
    amount=Decimal("9.00"),
    currency="USD",
    items=(LineItem("flat-white", 2, Decimal("4.50"), tags={"coffee"}),),
    channel="app",
)
BALANCE = Balance(25, 10, 5, T0 + timedelta(days=365), 25, 40, 15, 0, 0, 0)

# Recovery: a case just filed, and one with every field set, in a zone away from UTC.
KATHMANDU = tz.gettz("Asia/Kathmandu")
FILED = datetime(2026, 3, 6, 18, 40, tzinfo=KATHMANDU)
OFFER = Compensation(
    "EUR",
    points=200,
    voucher=Decimal("10.00"),
    voucher_valid_for=relativedelta(months=3, days=1),
    refund=Decimal("40.00"),
)
GIVEN = Compensation("JPY", apology=False, voucher=Decimal(500), voucher_valid_for=timedelta(30))
FRESH_CASE = RecoveryCase.open(id="cmp-2", category="noise", severity="low", filed_at=T0)
FULL_CASE = attrs.evolve(
    RecoveryCase.open(
        id="cmp-1",
        category="late delivery",
        severity="high",
        filed_at=FILED,
        acknowledge_by=FILED + timedelta(hours=4),
        resolve_by=FILED + timedelta(days=2),
        channel="phone",
        about="o-1",
        order_value=Decimal("80.00"),
        text="The cake came a day late.",
    )
    .then(FILED + timedelta(hours=5), "escalated", "to the duty manager", escalations=(0, 2))
    .then(FILED + timedelta(days=1), "resolved", "a refund"),
    severity=Severity.CRITICAL,
    acknowledged_at=FILED + timedelta(hours=1),
    resolved_at=FILED + timedelta(days=1),
    resolution="Refunded half.",
    offer=OFFER,
    given=GIVEN,
    timers=(Timer(1, "resolve", FILED + timedelta(days=1)), Timer(2, "resolve", FILED)),
)
ANSWER = SurveyResponse(
    id="s-1",
    customer_id="ada",
    at=T0,
    scale="nps",
    score=4,
    comment="Late cake.",
    about="cmp-1",
    category="delivery",
)
BARE_ANSWER = SurveyResponse(id="s-2", customer_id="ada", at=T0, scale="csat", score=5)
TASK = Task(
    key="follow-up:cmp-1",
    customer_id="ada",
    owner="customer care",
    due_at=FILED + timedelta(days=3),
    reason="call to ask how it went",
    created_at=FILED,
    kind="follow_up",
    about="cmp-1",
    closed_at=FILED + timedelta(days=4),
    result="All well.",
)

EFFECTS = [
    EarnPoints(40, "o-1", T0, T0 + timedelta(days=14), None),
    ReversePoints(5, (LOT, ENDLESS), "x-1", T0),
    RedeemPoints(15, "r-1"),
    AdjustPoints(-3, "a-1", "typo", None),
    HoldPoints("h-1", 5, T0 + timedelta(minutes=15)),
    CapturePoints("h-1", 4),
    ReleasePoints("h-1"),
    RestorePoints("r-1", DRAWS),
    UpdateProfile(ADA),
    AddStamps("coffee", 2),
    SetTier("gold", "big spenders"),
    AddTag("vip"),
    RequestMessage("thank-you", "email", "transactional", "thanks"),
    CountUse("double", T0, T0 - timedelta(days=3)),
    NotePurchase(Decimal("9.00"), T0),
    NotePurchase(Decimal("9.00"), T0, T0.date(), T0.date() - timedelta(days=30)),
    NoteVisit(T0),
    SetCard("coffee", 3, T0),
    SetCard("coffee", 0, None),
    SetProgress("five visits", "2026-03", 5, True),
    IssueVoucher(Voucher("AB12", "free latte", "latte", None, "card coffee", T0, None)),
    IssueVoucher(
        Voucher("CD34", "cashback", None, Decimal("0.74"), "rule card", T0, None),
        cashback=True,
        replaces="AB12",
    ),
    SetCase(FRESH_CASE),
    SetCase(FULL_CASE),
    NoteSurvey(ANSWER),
    NoteSurvey(BARE_ANSWER),
    OpenTask("follow-up:cmp-1", "customer care", FILED, "call back", "follow_up", "cmp-1"),
    OpenTask("t-2", "sam", T0, "call back", "task"),
    FinishTask("follow-up:cmp-1", FILED, "All well."),
    FinishTask("t-2", T0),
]
INPUTS = [
    ORDER,
    Purchase(id="o-2", customer_id="ada", at=T0, amount=Decimal(3), currency="JPY"),
    Return(id="x-1", customer_id="ada", at=T0, purchase_id="o-1", items=ORDER.items),
    Visit(id="v-1", customer_id="ada", at=T0, location="Soho"),
    Signup(id="s-1", customer_id="ada", at=T0),
    CustomEvent(id="e-1", customer_id="ada", at=T0, name="review", attributes={"stars": 5}),
    Redeem(key="r-1", customer_id="ada", points=15),
    PlaceHold(key="h-1", customer_id="ada", points=5, expires_at=T0 + timedelta(minutes=5)),
    CaptureHold(hold_key="h-1"),
    CaptureHold(hold_key="h-1", points=3),
    ReleaseHold(hold_key="h-1"),
    Adjust(key="a-1", customer_id="ada", points=-3, reason="typo"),
    CancelRedemption(redemption_key="r-1"),
    SaveCustomer(customer=ADA),
    Settle(customer_id="ada"),
    SetConsent(
        key="k-1", customer_id="ada", channel="email", kind="marketing", granted=True, source="a"
    ),
    ComplaintFiled(id="cmp-2", customer_id="ada", at=T0, category="noise", severity="low"),
    ComplaintFiled(
        id="cmp-1",
        customer_id="ada",
        at=FILED,
        category="late delivery",
        severity="critical",
        channel="phone",
        about="o-1",
        order_value=Decimal("80.00"),
        text="The cake came a day late.",
    ),
    ComplaintAcknowledged(id="ack-1", customer_id="ada", at=T0, complaint_id="cmp-1"),
    ComplaintAcknowledged(id="ack-2", customer_id="ada", at=T0, complaint_id="cmp-1", by="Sam"),
    ComplaintResolved(id="res-1", customer_id="ada", at=T0, complaint_id="cmp-1"),
    ComplaintResolved(
        id="res-2",
        customer_id="ada",
        at=FILED,
        complaint_id="cmp-1",
        resolution="Refunded half.",
        compensation=OFFER,
        by="Sam",
    ),
    ANSWER,
    BARE_ANSWER,
    CloseTask(task_key="follow-up:cmp-1"),
    CloseTask(task_key="follow-up:cmp-1", result="All well."),
    NotifyIncident(
        incident_id="inc-1", customer_id="ada", at=FILED, what="the ovens failed", severity="high"
    ),
]
VALUES = [FRESH_CASE, FULL_CASE, OFFER, GIVEN, Compensation()]


def _entry(seq: int, **fields: object) -> Entry:
    values: dict[str, object] = {
        "seq": seq,
        "kind": EntryKind.REDEEMED,
        "at": T0,
        "points": -15,
        "source": "r-1",
        "reason": "redeemed",
    }
    values.update(fields)
    return Entry(**values)  # type: ignore[arg-type]


LOT_ROW, ENDLESS_ROW = tuple(LOT), tuple(ENDLESS)
LEDGERS = {
    "new": Ledger(),
    "lots and counters": Ledger(
        (LOT_ROW,), (ENDLESS_ROW,), empty_map(), 35, 25, 0, 0, 40, 5, 0, 0, 0, 3, 5, T0
    ),
    "a hold and a debt owed by a lot": Ledger(
        (),
        (ENDLESS_ROW,),
        FrozenMap({"h-1": Hold("h-1", 5, (Draw(ENDLESS, 5),), T0, T0 + timedelta(minutes=5))}),
        12,
        0,
        5,
        3,
        20,
        0,
        0,
        8,
        0,
        9,
        6,
        T0 + timedelta(minutes=5),
        FrozenMap({3: 7}),
    ),
}

ENTRIES = [
    _entry(1, kind=EntryKind.EARNED, points=40, pending=40, lot=LOT),
    _entry(2, draws=DRAWS),
    _entry(3, kind=EntryKind.HELD, points=0, held=5, draws=DRAWS, hold_key="h-1"),
    _entry(4, kind=EntryKind.SHORTFALL, points=0, uncollected=7),
]


class TestRoundTrips:
    @pytest.mark.parametrize("effect", EFFECTS, ids=lambda effect: type(effect).__name__)
    def test_every_effect_comes_back_equal(self, effect: object) -> None:
        assert effect == rows.effect_from_row(rows.effect_row(effect))  # type: ignore[arg-type]

    @pytest.mark.parametrize("item", INPUTS, ids=lambda item: type(item).__name__)
    def test_every_event_and_command_comes_back_equal(self, item: object) -> None:
        assert item == rows.value_from_row(rows.value_row(item))

    @pytest.mark.parametrize("item", INPUTS, ids=lambda item: type(item).__name__)
    def test_every_event_and_command_comes_back_equal_through_json(self, item: object) -> None:
        assert item == rows.value_from_row(codec.loads(codec.dumps(rows.value_row(item))))

    @pytest.mark.parametrize(
        "value", VALUES, ids=["fresh case", "full case", "offer", "given", "apology"]
    )
    def test_cases_and_compensation_come_back_equal_as_values(self, value: object) -> None:
        assert value == rows.value_from_row(rows.value_row(value))
        assert value == rows.value_from_row(codec.loads(codec.dumps(rows.value_row(value))))

    def test_enum_members_are_kept_as_their_values(self) -> None:
        row = rows.value_row(INPUTS[-1])  # NotifyIncident, severity "high"

        assert "high" in row
        assert not any(isinstance(value, Severity) for value in row)

    @pytest.mark.parametrize("case", [FRESH_CASE, FULL_CASE], ids=["fresh", "full"])
    def test_a_case_comes_back_equal_from_its_flat_row(self, case: RecoveryCase) -> None:
        row = rows.case_row(case)

        assert not any(type(value) is tuple for value in row)
        assert case == rows.case_from_row(row)
        assert case == rows.case_from_row(codec.loads(codec.dumps(row)))

    @pytest.mark.parametrize("task", [TASK, attrs.evolve(TASK, closed_at=None, result=None)])
    def test_a_task_comes_back_equal(self, task: Task) -> None:
        assert task == rows.task_from_row(rows.task_row(task))
        assert task == rows.task_from_row(codec.loads(codec.dumps(rows.task_row(task))))

    def test_effects_laid_end_to_end_come_back_equal_through_json(self) -> None:
        row = rows.effects_row(EFFECTS)

        assert tuple(EFFECTS) == rows.effects_from_row(row)
        assert tuple(EFFECTS) == rows.effects_from_row(codec.loads(codec.dumps(row)))

    @pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.kind.value)
    def test_every_kind_of_entry_comes_back_equal(self, entry: Entry) -> None:
        assert entry == rows.entry_from_row(rows.entry_row(entry))

    @pytest.mark.parametrize("ledger", LEDGERS.values(), ids=list(LEDGERS))
    def test_a_ledger_comes_back_equal_from_its_three_rows(self, ledger: Ledger) -> None:
        assert ledger == rows.ledger_from_rows(*rows.ledger_rows(ledger))

    def test_the_rows_of_a_ledger_hold_its_fields_in_order(self) -> None:
        ledger = LEDGERS["lots and counters"]
        pending, available, rest = rows.ledger_rows(ledger)
        assert (ledger.pending_lots, ledger.available_lots) == (pending, available)
        assert (None, 35, 25, 0, 0, 40, 5, 0, 0, 0, 3, 5, T0, None) == rest

    @pytest.mark.parametrize(
        "state",
        [
            CustomerState(ADA),
            CustomerState(ADA, tier="gold"),
            CustomerState(ADA, activity=Activity(3, Decimal("12.50"), 1, T0, T0, T0)),
            CustomerState(
                ADA,
                activity=Activity(
                    2, Decimal("9.00"), 0, T0, T0, None, ((T0.date(), Decimal("9.00"), 9, 2),)
                ),
                stamps=FrozenMap({"coffee": 3, "cuts": 9}),
                tier="silver",
                rule_uses=FrozenMap({"double": (T0, T0 + timedelta(days=1)), "once": (T0,)}),
                card_started=FrozenMap({"coffee": T0}),
                progress=FrozenMap(
                    {"five visits": ("2026-03", 3, False), "big": ("2026", Decimal("9.50"), True)}
                ),
                vouchers=FrozenMap(
                    {
                        "AB12": Voucher(
                            "AB12", "free latte", "latte", None, "card coffee", T0, None
                        ),
                        "CD34": Voucher(
                            "CD34",
                            "5 off",
                            None,
                            Decimal("5.00"),
                            "reward",
                            T0,
                            T0 + timedelta(days=90),
                            VoucherStatus.USED,
                            T0 + timedelta(days=2),
                        ),
                    }
                ),
            ),
            CustomerState(ADA, cases=FrozenMap({"cmp-2": FRESH_CASE})),
            CustomerState(ADA, surveys=(ANSWER, BARE_ANSWER)),
            CustomerState(
                ADA,
                tier="gold",
                rule_uses=FrozenMap({"double": (T0,)}),
                schedule=FrozenMap({"expiring": T0}),
                cases=FrozenMap({"cmp-1": FULL_CASE, "cmp-2": FRESH_CASE}),
                surveys=(ANSWER,),
            ),
        ],
        ids=["new", "tier-only", "activity", "everything", "a case", "surveys", "recovery"],
    )
    def test_what_a_state_holds_besides_profile_and_ledger_comes_back_equal(
        self, state: CustomerState
    ) -> None:
        extras = rows.extras_from_row(rows.extras_row(state))
        assert state == CustomerState(state.customer, state.ledger, *extras)
        through_json = rows.extras_from_row(codec.loads(codec.dumps(rows.extras_row(state))))
        assert state == CustomerState(state.customer, state.ledger, *through_json)

    def test_an_extras_row_written_before_cases_and_surveys_still_reads(self) -> None:
        consent = Consent(channel="email", kind="marketing", granted=True, at=T0, source="form")
        state = CustomerState(
            ADA,
            stamps=FrozenMap({"coffee": 3}),
            rule_uses=FrozenMap({"double": (T0, T0 + timedelta(days=1))}),
            consents=FrozenMap({consent_key("email", "marketing"): consent}),
            schedule=FrozenMap({"birthday": T0}),
        )
        row = rows.extras_row(state)
        assert row is not None

        # As the release before wrote it: the same, without the last four sections
        # (cases, surveys, and the social bond's and what the bonds hold, which came
        # after them).
        older = _without_sections(row, keep=9)

        assert 4 == len(row) - len(older)
        assert state == CustomerState(ADA, Ledger(), *rows.extras_from_row(older))

    def test_an_extras_row_written_before_consents_and_the_schedule_still_reads(self) -> None:
        state = CustomerState(
            ADA, stamps=FrozenMap({"coffee": 3}), rule_uses=FrozenMap({"double": (T0,)})
        )
        row = rows.extras_row(state)
        assert row is not None

        oldest = _without_sections(row, keep=7)

        assert 6 == len(row) - len(oldest)  # six empty sections, one count each
        assert state == CustomerState(ADA, Ledger(), *rows.extras_from_row(oldest))

    def test_vouchers_read_back_are_written_back_as_they_were_whether_read_or_not(
        self,
    ) -> None:
        offer = VoucherOffer("free coffee", sku="latte")
        vouchers = {
            code: offer.issue(code, "card coffee", T0 + timedelta(days=n))
            for n, code in enumerate(("AB12", "CD34", "EF56"))
        }
        row = rows.extras_row(CustomerState(ADA, vouchers=FrozenMap(vouchers)))
        untouched = CustomerState(ADA, Ledger(), *rows.extras_from_row(row))
        looked_at = CustomerState(ADA, Ledger(), *rows.extras_from_row(row))

        assert 3 == len(untouched.vouchers)
        assert vouchers["CD34"] == looked_at.vouchers["CD34"]
        assert (row, row) == (rows.extras_row(untouched), rows.extras_row(looked_at))
        assert vouchers == untouched.vouchers == looked_at.vouchers

    def test_a_trace_comes_back_equal(self) -> None:
        trace = Trace(
            (
                Step(Verdict.FIRED, "1 per 1 USD on 9.00 USD", "points"),
                Step(
                    Verdict.FAILED, "customer.tier == 'gold'", "gold", (("customer.tier", None),)
                ),
                Step(Verdict.FAILED, "'x' in event.tags", "x", (("event.tags", ("a", "b")),)),
                Step(Verdict.NOTE, "earned 9 points"),
            )
        )
        assert trace == rows.trace_from_row(rows.trace_row(trace))

    def test_an_outcome_comes_back_with_its_entries_from_the_statement(self) -> None:
        statement = [rows.entry_row(entry) for entry in ENTRIES]
        outcome = Outcome("ada", "o-1", T0, tuple(EFFECTS), ("why",), tuple(ENTRIES[1:3]), BALANCE)
        assert outcome == rows.outcome_from_row(rows.outcome_row(outcome), statement)

    def test_an_outcome_whose_entries_are_not_consecutive_keeps_them_itself(self) -> None:
        outcome = Outcome("ada", "o-1", T0, (), (), (ENTRIES[0], ENTRIES[2]), BALANCE)
        assert outcome == rows.outcome_from_row(rows.outcome_row(outcome), [])

    def test_records_come_back_equal(self) -> None:
        purchase = PurchaseRecord(
            ORDER,
            (LOT,),
            40,
            Decimal("4.50"),
            FrozenMap({("flat-white", Decimal("4.50")): 1}),
            20,
            18,
            2,
            (("AB12", Decimal("1.24")), ("CD34", Decimal("0.05"))),
        )
        hold = HoldRecord("h-1", "ada", 5, T0, T0 + timedelta(minutes=5), HoldStatus.EXPIRED)
        redemption = RedemptionRecord("r-1", "ada", 17, DRAWS, T0, cancelled=True)
        assert purchase == rows.purchase_from_row(rows.purchase_row(purchase))
        assert hold == rows.hold_from_row(rows.hold_row(hold))
        assert redemption == rows.redemption_from_row(rows.redemption_row(redemption))


def _without_sections(row: rows.Row, *, keep: int) -> rows.Row:
    """``row`` (an extras row) as a release that wrote only its first ``keep`` sections
    wrote it: the head, those sections, then the rules' firings (the empty sections after
    them dropped)."""
    at = 12
    for _ in range(keep):
        at += 1 + row[at]
    end = at
    while end < len(row) and type(row[end]) is int:
        assert 0 == row[end], "only empty sections are dropped"
        end += 1
    return (*row[:at], *row[end:])


def _collect_a_few_times() -> None:
    # CPython stops tracking a tuple once a collection sees that everything in it is
    # untracked: nested rows drop out one level per pass, as they do in a long-lived store.
    for _ in range(10):
        gc.collect()


class TestRowsAreLightOnTheCollector:
    def test_a_statement_row_drops_out_of_the_garbage_collectors_view(self) -> None:
        row = rows.entry_row(ENTRIES[1])
        _collect_a_few_times()
        assert not gc.is_tracked(row)

    def test_a_log_row_of_a_purchase_drops_out_of_the_garbage_collectors_view(self) -> None:
        outcome = Outcome("ada", "o-1", T0, (EFFECTS[0],), ("why",), (ENTRIES[0],), BALANCE)
        row = rows.log_row(1, ("event", "o-1"), ORDER, T0, outcome)
        _collect_a_few_times()
        assert not gc.is_tracked(row)

    def test_the_rows_of_a_ledger_without_holds_drop_out_of_the_collectors_view(self) -> None:
        ledger_rows = rows.ledger_rows(LEDGERS["lots and counters"])
        _collect_a_few_times()
        assert not any(map(gc.is_tracked, ledger_rows))

    def test_an_extras_row_with_a_case_and_a_survey_drops_out_of_the_collectors_view(
        self,
    ) -> None:
        state = CustomerState(
            ADA, cases=FrozenMap({"cmp-2": FRESH_CASE}), surveys=(ANSWER, BARE_ANSWER)
        )
        row = rows.extras_row(state)
        _collect_a_few_times()
        assert not gc.is_tracked(row)


RELATIVEDELTAS = [
    relativedelta(months=3),
    relativedelta(years=1, months=2, days=3, hours=4, minutes=5, seconds=6, microseconds=7),
    relativedelta(leapdays=1, days=-2),
    relativedelta(days=1.5),
    relativedelta(),
]


class TestCodec:
    @pytest.mark.parametrize("value", RELATIVEDELTAS, ids=repr)
    def test_a_relativedelta_comes_back_equal(self, value: relativedelta) -> None:
        text = codec.dumps(("x", value))
        assert text is not None
        assert ("x", value) == codec.loads(text)
        assert "r" in json.loads(text)[1]

    @given(
        st.builds(
            relativedelta,
            years=st.integers(-100, 100),
            months=st.integers(-1000, 1000),
            days=st.integers(-10_000, 10_000),
            leapdays=st.integers(-3, 3),
            hours=st.integers(-1000, 1000),
            minutes=st.integers(-10_000, 10_000),
            seconds=st.integers(-100_000, 100_000),
            microseconds=st.integers(-(10**7), 10**7),
        )
    )
    def test_any_amount_of_time_comes_back_equal(self, value: relativedelta) -> None:
        assert (value,) == codec.loads(codec.dumps((value,)))

    @pytest.mark.parametrize(
        "value",
        [relativedelta(day=31), relativedelta(months=1, weekday=MO(1)), relativedelta(year=2026)],
        ids=["day", "weekday", "year"],
    )
    def test_a_relativedelta_with_absolute_fields_is_refused_with_what_it_holds(
        self, value: relativedelta
    ) -> None:
        with pytest.raises(TypeError, match="absolute fields"):
            codec.dumps((value,))

    @pytest.mark.parametrize(
        "text",
        ['[{"r":[1,2,3]}]', '[{"r":[1,2,3,4,5,6,7,"8"]}]', '[{"r":[1,2,3,4,5,6,7,true]}]'],
        ids=["short", "a string", "a bool"],
    )
    def test_a_tampered_relativedelta_does_not_read(self, text: str) -> None:
        with pytest.raises(ValueError, match="relativedelta"):
            codec.loads(text)


class TestRowLog:
    def test_rows_come_back_by_index_and_in_order_across_sealed_chunks(self) -> None:
        log = RowLog()
        indexes = [log.append((n, "row")) for n in range(CHUNK * 2 + 5)]
        assert list(range(CHUNK * 2 + 5)) == indexes
        assert (CHUNK + 3, "row") == log[CHUNK + 3]
        assert [(n, "row") for n in range(CHUNK * 2 + 5)] == list(log)

    def test_a_sealed_chunk_drops_out_of_the_garbage_collectors_view(self) -> None:
        log = RowLog()
        for n in range(CHUNK):
            log.append((n, "row", T0))
        _collect_a_few_times()
        assert not gc.is_tracked(log._sealed[0])
