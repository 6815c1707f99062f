"""A year of loyalty points at a neighbourhood coffee bar, told as a story.

Run it with ``make demo``. Maya buys her coffees over a few weeks. Each purchase earns
points that stay pending through the 14-day return window, then become available. She
spends some on a free coffee, pays for an app order with points (a hold, then a capture),
complains that the cake was stale (the barista says sorry and gives her a voucher),
returns a bag of beans (the points of that order are clawed back), and moves away. A year
later the points she never spent expire, and the nightly ``run_due()`` job writes that
into her statement. On the way custbond writes to her: a welcome when she signs up, a
greeting on her birthday, a word a month before her points expire (the coffee bar's
notifier only prints them). Last, three regulars show what else can hold a customer: the
bond profile of one held by points only, one held by a person and a subscription, and
one held by nothing at all.

The points live in a SQLite file (``SQLiteStore``, the embedded default). Halfway through
the story the till's process ends, and a new process opens the same file and goes on
from where the first left off: the state survives the restart.

Only custbond's public API is used. The clock is a ``FixedClock`` moved by hand, so the
story prints the same lines every time.

    python examples/coffee_bar.py                  # a fresh file in a temporary folder
    python examples/coffee_bar.py --db beans.db    # keep the file (started afresh)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from dateutil import tz
from dateutil.relativedelta import relativedelta

from custbond import (
    Balance,
    Birthday,
    ComplaintAcknowledged,
    ComplaintFiled,
    ComplaintResolved,
    ContactMade,
    Customer,
    Delivery,
    Entry,
    ExpiryNotice,
    FixedClock,
    Greeting,
    LineItem,
    MessagingPolicy,
    Outgoing,
    Plan,
    PointsPerSpend,
    PointsPolicy,
    Program,
    Purchase,
    RetentionService,
    Return,
    Send,
    Signup,
    SocialPolicy,
    SQLiteStore,
    StructuralPolicy,
)
from custbond.recovery import (
    BusinessCalendar,
    CompensationLadder,
    GoodwillVoucher,
    RecoveryPolicy,
    Rung,
    Targets,
)

BERLIN = tz.gettz("Europe/Berlin")
MAYA = "cust-0042"
INDENT = " " * 23  # lines that continue a dated line start under its text

PROGRAM = Program(
    currency="EUR",
    time_zone="Europe/Berlin",  # where "the end of the month" is reckoned
    earn=PointsPerSpend(points=10, per=Decimal("1")),  # 10 points per euro, rounded down
    points=PointsPolicy(
        pending_for=relativedelta(days=14),  # the return window
        expire_after=relativedelta(months=12),
        expire_at_end_of="month",  # "valid through the end of the month"
    ),
    messaging=MessagingPolicy(
        welcome=Send(template="welcome"),
        birthday=Greeting(),  # at 09:00 on the day, her time; marketing: needs consent
        points_expiring=ExpiryNotice(within=timedelta(days=30)),
    ),
    recovery=RecoveryPolicy(  # when something goes wrong
        calendar=BusinessCalendar("Europe/Berlin", hours={"MO-SA": "07:00-18:00"}),
        targets={"low": Targets(acknowledge=timedelta(hours=2), resolve=timedelta(hours=8))},
        compensation=CompensationLadder([Rung([GoodwillVoucher(Decimal("3.80"))])]),
    ),
    social=SocialPolicy(),  # regulars may have a barista who knows them
    structure=StructuralPolicy(  # and a bag of beans delivered on the 1st of each month
        plans=[
            Plan(
                name="beans-club",
                every="FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=8",
                price=Decimal("15.00"),
            )
        ]
    ),
)


class Postbox:
    """The coffee bar's notifier (the host plugs in its own): here it only prints."""

    def send(self, message: Outgoing) -> Delivery:
        print(f"{INDENT}mail to {message.to}: {message.subject}")
        return Delivery.sent()


FLAT_WHITE = LineItem(sku="flat-white", quantity=1, unit_price=Decimal("3.80"))
CROISSANT = LineItem(sku="croissant", quantity=1, unit_price=Decimal("2.90"))
CARROT_CAKE = LineItem(sku="carrot-cake", quantity=1, unit_price=Decimal("4.20"))
BEANS = LineItem(sku="beans-250g", quantity=1, unit_price=Decimal("16.50"))


def berlin(day: str, time: str) -> datetime:
    """A moment at the coffee bar: ``berlin("2026-03-02", "08:05")``."""
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=BERLIN)


def dated(moment: datetime, text: str) -> None:
    print(f"{moment.astimezone(BERLIN):%a %d %b %Y %H:%M}  {text}")


def points(balance: Balance) -> str:
    """One line for a balance: what can be spent, what waits, what is reserved."""
    line = (
        f"available {balance.available:>3} | pending {balance.pending:>3} | held {balance.held:>2}"
    )
    if balance.expiring_at is not None:  # the first instant the points are gone
        last_day = balance.expiring_at.astimezone(BERLIN) - timedelta(days=1)
        line += f" | {balance.expiring_points} valid through {last_day:%d %b %Y}"
    return line


def buy(service: RetentionService, clock: FixedClock, order: str, *items: LineItem) -> None:
    """Maya pays at the till; the till tells custbond."""
    amount = sum((item.total for item in items), Decimal(0))
    outcome = service.record(
        Purchase(
            id=order,
            customer_id=MAYA,
            at=clock.now(),
            amount=amount,
            currency="EUR",
            items=items,
        )
    )
    what = " + ".join(item.sku for item in items)
    dated(clock.now(), f"{order}: {what}, {amount} EUR, earns {outcome.points} points")
    print(INDENT + points(outcome.balance))


def the_first_weeks(service: RetentionService, clock: FixedClock) -> None:
    for order, day, time, items in [
        ("order-001", "2026-03-02", "08:05", [FLAT_WHITE]),
        ("order-002", "2026-03-04", "08:20", [FLAT_WHITE, CROISSANT]),
        ("order-003", "2026-03-09", "08:10", [FLAT_WHITE]),
        ("order-004", "2026-03-11", "17:45", [BEANS]),
        ("order-005", "2026-03-13", "08:00", [FLAT_WHITE, CARROT_CAKE]),
    ]:
        clock.set(berlin(day, time))
        buy(service, clock, order, *items)
    print()

    clock.set(berlin("2026-03-16", "09:00"))
    dated(clock.now(), "the return window of her first coffee has passed:")
    print(INDENT + points(service.balance(MAYA)))
    print()


def the_return(service: RetentionService, clock: FixedClock) -> None:
    clock.set(berlin("2026-03-17", "12:30"))
    outcome = service.record(
        Return(
            id="return-001",
            customer_id=MAYA,
            at=clock.now(),
            purchase_id="order-004",
            items=(BEANS,),
        )
    )
    dated(clock.now(), f"she returns the beans of order-004: {outcome.points} points")
    print(
        textwrap.fill(
            str(outcome.trace[0]), width=88, initial_indent=INDENT, subsequent_indent=INDENT
        )
    )
    print(INDENT + points(outcome.balance))
    print()


def more_coffee_and_spending(service: RetentionService, clock: FixedClock) -> None:
    for order, day, time, items in [
        ("order-006", "2026-03-20", "08:15", [FLAT_WHITE]),
        ("order-007", "2026-03-25", "08:05", [FLAT_WHITE, CROISSANT]),
        ("order-008", "2026-03-30", "08:10", [FLAT_WHITE]),
    ]:
        clock.set(berlin(day, time))
        buy(service, clock, order, *items)
    print()

    clock.set(berlin("2026-04-01", "08:30"))
    outcome = service.redeem(MAYA, 38, key="redeem-001", reason="a free flat white")
    dated(clock.now(), "a free flat white, for 38 points:")
    print(INDENT + points(outcome.balance))

    clock.set(berlin("2026-04-02", "07:50"))
    outcome = service.hold(MAYA, 42, key="app-017", expires_at=clock.now() + timedelta(hours=1))
    dated(clock.now(), "she orders carrot cake in the app and pays with 42 points:")
    print(INDENT + points(outcome.balance))
    clock.advance(timedelta(minutes=12))
    outcome = service.capture("app-017")
    dated(clock.now(), "she picks it up and the held points are spent:")
    print(INDENT + points(outcome.balance))
    print()
    the_stale_cake(service, clock)

    clock.set(berlin("2026-04-10", "08:00"))
    buy(service, clock, "order-009", FLAT_WHITE)
    print()


def the_stale_cake(service: RetentionService, clock: FixedClock) -> None:
    clock.advance(timedelta(minutes=20))
    complaint = ComplaintFiled(
        id="complaint-001",
        customer_id=MAYA,
        at=clock.now(),
        category="stale cake",
        severity="low",
        channel="app",
        about="app-017",
    )
    service.record(complaint)
    case = service.case(MAYA, complaint.id)
    dated(clock.now(), "the cake is stale, and she says so in the app:")
    deadline = f"{case.acknowledge_by:%H:%M}" if case.acknowledge_by else "no deadline"
    offer = case.offer.describe() if case.offer else "none"
    print(f"{INDENT}to be answered by {deadline}; the offer: {offer}")
    clock.advance(timedelta(minutes=25))
    service.record(
        ComplaintAcknowledged(
            id="ack-001", customer_id=MAYA, at=clock.now(), complaint_id=complaint.id, by="Jo"
        )
    )
    dated(clock.now(), "Jo, the barista, writes back and says sorry:")
    service.dispatch()
    clock.advance(timedelta(minutes=5))
    service.record(
        ComplaintResolved(
            id="fix-001", customer_id=MAYA, at=clock.now(), complaint_id=complaint.id
        )
    )
    (voucher,) = service.vouchers(MAYA)
    dated(clock.now(), f"resolved: a {voucher.value} EUR voucher for her next flat white")
    print()


def a_year_later(service: RetentionService, clock: FixedClock) -> None:
    print("Maya moves to another town and stops coming in.")
    print()
    clock.set(berlin("2026-09-14", "09:00"))
    service.run_due()  # the job queues what falls due: her birthday greeting
    dated(clock.now(), "her birthday; the job's run_due() and dispatch() greet her:")
    service.dispatch()
    clock.set(berlin("2027-03-01", "09:00"))
    dated(clock.now(), "her balance, read without any job having run:")
    print(INDENT + points(service.balance(MAYA)))
    clock.set(berlin("2027-03-02", "03:00"))
    service.run_due()
    dated(clock.now(), "a month before points expire, the nightly job tells her:")
    service.dispatch()

    clock.set(berlin("2027-05-02", "03:00"))
    outcomes = service.run_due()
    expired = -sum(outcome.points for outcome in outcomes if outcome.customer_id == MAYA)
    dated(clock.now(), f"the nightly run_due() writes down {expired} expired points:")
    final = service.balance(MAYA)
    print(INDENT + points(final))
    print(
        f"{INDENT}lifetime: earned {final.earned}, redeemed {final.redeemed}, "
        f"reversed {final.reversed}, expired {final.expired}"
    )
    print()


def three_regulars(service: RetentionService, clock: FixedClock) -> None:
    """Three regulars, and what holds each of them: their bond profiles."""
    print("Three other regulars, and what holds each of them (their bond profiles):")
    print()
    start = clock.now()
    for week in range(6):  # Jonas comes for the points, and nothing else
        at = start - timedelta(weeks=6 - week)
        service.record(
            Purchase(
                id=f"jonas-{week}",
                customer_id="jonas",
                at=at,
                amount=Decimal("7.60"),
                currency="EUR",
                items=(FLAT_WHITE, FLAT_WHITE),
            )
        )
    service.save_customer(Customer("ines", name="Ines"))  # Ines knows Sam, and gets beans
    service.assign_owner("ines", "Sam", key="ines-owner")
    service.record(ContactMade(id="ines-chat", customer_id="ines", at=start, by="Sam"))
    service.subscribe("ines", "beans-club", key="ines-beans")
    service.save_customer(Customer("tom", name="Tom"))  # Tom: a name on a card, nothing more
    for customer in ("jonas", "ines", "tom"):
        print(textwrap.indent(service.bond_profile(customer).describe(), "  "))
        print()
    weak = ", ".join(profile.customer_id for profile in service.weakly_held())
    print(f"Held by no bond, or by one weak bond: {weak}.")
    print()


def signed(value: int) -> str:
    return f"{value:+d}" if value else ""


def print_statement(entries: tuple[Entry, ...], name: str) -> None:
    print(f"The statement of {name}, every entry kept:")
    header = ("#", "when (Berlin)", "kind", "points", "pending", "held", "source", "reason")
    print("{:>3}  {:<16}  {:<8} {:>6} {:>7} {:>4}  {:<11} {}".format(*header))
    for entry in entries:
        print(
            f"{entry.seq:>3}  {entry.at.astimezone(BERLIN):%Y-%m-%d %H:%M}  {entry.kind:<8} "
            f"{signed(entry.points):>6} {signed(entry.pending):>7} {signed(entry.held):>4}  "
            f"{entry.source:<11} {entry.reason}"
        )


def before_the_restart(path: Path) -> None:
    clock = FixedClock(berlin("2026-03-02", "08:00"))
    with SQLiteStore(path) as store:
        service = RetentionService(PROGRAM, store, clock, notifier=Postbox())
        print("Corner Bean coffee bar: 10 points per euro, pending for 14 days (the return")
        print("window), valid for 12 months through the end of that month.")
        print()
        maya = service.save_customer(
            Customer(
                MAYA,
                name="Maya Okafor",
                email="maya@example.com",
                time_zone="Europe/Berlin",
                birthday=Birthday(month=9, day=14),
                tags={"oat-milk"},
                preferences={"usual": "flat white"},
            )
        )
        usual = maya.preferences["usual"]
        print(f"{maya.name} ({maya.id}) joins the programme. Her usual: a {usual}.")
        service.set_consent(MAYA, "email", granted=True, source="card form", key="consent-1")
        service.record(Signup(id="signup-001", customer_id=MAYA, at=clock.now()))
        print("She says yes to news by email, and the welcome goes out:")
        service.dispatch()  # a worker does this every minute
        print()

        the_first_weeks(service, clock)
        the_return(service, clock)
        more_coffee_and_spending(service, clock)
        print(f"The till's process ends. Everything is in {path.name}:")
        print(INDENT + points(service.balance(MAYA)))
        print()


def after_the_restart(path: Path) -> None:
    clock = FixedClock(berlin("2026-04-10", "08:00"))
    with SQLiteStore(path) as store:
        service = RetentionService(PROGRAM, store, clock, notifier=Postbox())
        maya = service.customer(MAYA)
        print(f"A new process opens {path.name} and finds {maya.name} as she was:")
        print(INDENT + points(service.balance(MAYA)))
        print()
        three_regulars(service, clock)
        a_year_later(service, clock)
        print_statement(service.statement(MAYA), maya.name or maya.id)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="the SQLite file (default: a temporary one)")
    parser.add_argument("--resume", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.resume:  # the second process: the same file, opened afresh
        after_the_restart(args.db)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "corner_bean.db"
        for stale in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))):
            stale.unlink(missing_ok=True)  # each run tells the story from its start
        before_the_restart(path)
        # A real restart: another Python process, which knows only the file's name.
        resumed = subprocess.run(
            [sys.executable, __file__, "--db", str(path), "--resume"],
            capture_output=True,
            text=True,
            check=False,
        )
        print(resumed.stdout, end="")
        print(resumed.stderr, end="", file=sys.stderr)
        if resumed.returncode:
            raise SystemExit(resumed.returncode)


if __name__ == "__main__":
    main()
