"""Reading a history of purchases from a CSV file, for ``custbond simulate``.

The format is described in ``docs/cli.md``. In short: a header row, then one row per
purchase, or one row per line item with the purchase's columns repeated on each.

========== ========= ===================================================================
column     required  value
========== ========= ===================================================================
id         yes       the purchase's id; rows with the same id are one purchase
customer_id yes      the customer's id
at         yes       ISO 8601 date-time with a UTC offset: ``2026-05-05T09:30:00-04:00``
amount     yes       what was paid, as decimal text: ``12.40``
currency   no        the program's currency (the default when empty)
channel    no        where it was bought (``store``, ``app``)
payment    no        how it was paid (``co-brand-visa``)
sku        no        the item of this row; with it: ``quantity`` (default 1),
                     ``unit_price`` (required) and ``tags`` (``coffee|hot``)
========== ========= ===================================================================

Every problem is an :class:`~custbond.InvalidInput` whose field names the file, the row
(the header is row 1) and the column, and nothing is read. The rows are all checked: the
error raised is the first problem, and each further one (up to :data:`MAX_PROBLEMS` in
all) is a note on it (``error.__notes__``), so that a file is fixed in one go.

>>> text = (
...     "id,customer_id,at,amount,sku,quantity,unit_price,tags\\n"
...     "o-1,ada,2026-05-05T09:30:00-04:00,9.00,latte,2,4.50,coffee|hot\\n"
... )
>>> (order,) = parse_purchases(text, file="history.csv", currency="USD")
>>> order.amount, order.items[0].tags == {"coffee", "hot"}
(Decimal('9.00'), True)
>>> text = "id,customer_id,at,amount\\no-1,ada,2026-05-05 09:30,9.00\\n"
>>> parse_purchases(text, file="history.csv", currency="USD")
Traceback (most recent call last):
...
custbond.errors.InvalidInput: history.csv, row 2, column 'at' must be an ISO 8601
date-time with a UTC offset, such as 2026-05-05T09:30:00-04:00 (a time without one is
ambiguous); got '2026-05-05 09:30'
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from custbond._validate import FIRST_YEAR, LAST_YEAR
from custbond.errors import InvalidInput
from custbond.events import LineItem, Purchase

__all__ = ["COLUMNS", "MAX_PROBLEMS", "REQUIRED", "parse_purchases", "read_purchases"]

REQUIRED = ("id", "customer_id", "at", "amount")
"""The columns every history has."""
PURCHASE_COLUMNS = (*REQUIRED, "currency", "channel", "payment")
"""The columns about the purchase as a whole: the same on every row of one purchase."""
ITEM_COLUMNS = ("sku", "quantity", "unit_price", "tags")
"""The columns about the line item of a row."""
COLUMNS = (*PURCHASE_COLUMNS, *ITEM_COLUMNS)
"""Every column a history may have."""
MAX_PROBLEMS = 20
"""How many problems with its rows one reading of a history reports at most."""

_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_COUNT = re.compile(r"[0-9]{1,9}")  # up to 999,999,999 of an item
_AT = "an ISO 8601 date-time with a UTC offset, such as 2026-05-05T09:30:00-04:00"


@attrs.frozen
class _Row:
    """One data row: its number in the file (the header is row 1) and its values."""

    number: int
    values: Mapping[str, str]

    def get(self, column: str) -> str:
        """The row's text in ``column``; empty when the history has no such column."""
        return self.values.get(column, "")


# A problem found with the rows, and the number of the row it is reported at.
_Problem = tuple[int, InvalidInput]


def read_purchases(path: str | os.PathLike[str], *, currency: str) -> tuple[Purchase, ...]:
    """The purchases of the CSV history at ``path``, in time order: see
    :func:`parse_purchases`. Raises :class:`OSError` when the file cannot be read."""
    file = os.fspath(path)
    with open(path, "rb") as stream:
        raw = stream.read()
    return parse_purchases(_decode(raw, file), file=file, currency=currency)


def parse_purchases(text: str, *, file: str, currency: str) -> tuple[Purchase, ...]:
    """The purchases of the CSV ``text`` (read from ``file``), in time order; purchases
    at the same instant keep the order of the file. ``currency`` is the program's: the
    default of the ``currency`` column, and the only one accepted in it.

    Raises :class:`~custbond.InvalidInput` naming the file, row and column of the first
    problem, with the next ones as its notes, in the order of the rows (a problem of a
    purchase as a whole at its first row): up to :data:`MAX_PROBLEMS` in all, then how many more
    there are. A problem with the file itself (its encoding, its CSV, its header) stops
    the reading there.
    """
    problems: list[_Problem] = []
    rows = _rows(text, file, problems)
    purchases = []
    for group in _by_id(rows):
        purchase = _purchase(group, file, currency, problems)
        if purchase is not None:
            purchases.append(purchase)
    if problems:
        problems.sort(key=lambda problem: problem[0])  # a stable sort
        raise _all_of([error for _, error in problems])
    return tuple(sorted(purchases, key=lambda purchase: purchase.at))  # a stable sort


def _all_of(problems: Sequence[InvalidInput]) -> InvalidInput:
    """The first of ``problems``, with the others as its notes (up to MAX_PROBLEMS)."""
    first, *others = problems
    for other in others[: MAX_PROBLEMS - 1]:
        first.add_note(str(other))
    if len(problems) > MAX_PROBLEMS:
        first.add_note(f"and {len(problems) - MAX_PROBLEMS} more problems")
    return first


def _decode(raw: bytes, file: str) -> str:
    """The file's text: UTF-8, with or without a byte order mark."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = raw[: error.start].count(b"\n") + 1
        bad = raw[error.start : error.start + 1]
        raise InvalidInput(f"{file}, row {row}", bad, "UTF-8 text") from None


def _rows(text: str, file: str, problems: list[_Problem]) -> list[_Row]:
    """The data rows, checked against the header; a row of the wrong width goes to
    ``problems`` instead. A row's number is the line it starts on, as an editor counts
    them (the header's is 1; a quoted value may hold line breaks); blank lines, lines of
    spaces alone and rows of empty fields alone (``,,,`` from a spreadsheet) are
    skipped."""
    records = _records(text, file)
    if not records:
        raise InvalidInput(file, text, _header_expected())
    header = [name.strip() for name in records[0][1]]
    _check_header(header, file)
    rows = []
    for number, fields in records[1:]:
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            expected = f"{len(header)} fields, one for each column of the header"
            problems.append(
                (number, InvalidInput(f"{file}, row {number}", ",".join(fields), expected))
            )
            continue
        rows.append(_Row(number, dict(zip(header, fields, strict=True))))
    return rows


def _records(text: str, file: str) -> list[tuple[int, list[str]]]:
    """Every record of the CSV text with the line it starts on, with the csv module's
    errors as InvalidInput."""
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    records: list[tuple[int, list[str]]] = []
    while True:
        starts = reader.line_num + 1  # the lines read so far, and this record's first
        try:
            records.append((starts, next(reader)))
        except StopIteration:
            return records
        except csv.Error as error:
            raise InvalidInput(f"{file}, row {starts}", str(error), "a CSV record") from None


def _header_expected() -> str:
    return (
        f"a header row with the columns {', '.join(REQUIRED)} and any of "
        f"{', '.join(COLUMNS[len(REQUIRED) :])}"
    )


def _check_header(header: Sequence[str], file: str) -> None:
    where = f"{file}, row 1"
    shown = ",".join(header)
    for name in header:
        if name not in COLUMNS:
            raise InvalidInput(where, shown, f"{_header_expected()} (unknown column {name!r})")
        if header.count(name) > 1:
            raise InvalidInput(where, shown, f"columns with different names ({name!r} twice)")
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InvalidInput(where, shown, f"{_header_expected()} (missing: {', '.join(missing)})")


def _by_id(rows: Sequence[_Row]) -> list[list[_Row]]:
    """The rows of each purchase, in the order each purchase first appears. A row without
    an id is a purchase of its own, refused for that: rows without ids are not one."""
    groups: dict[str | int, list[_Row]] = {}
    for row in rows:
        groups.setdefault(row.get("id") or row.number, []).append(row)
    return list(groups.values())


def _where(file: str, row: _Row, column: str) -> str:
    return f"{file}, row {row.number}, column {column!r}"


def _purchase(
    rows: Sequence[_Row], file: str, currency: str, problems: list[_Problem]
) -> Purchase | None:
    """One purchase from its rows, or None when they have problems, which go to
    ``problems``: the first row gives the purchase's columns, the others must repeat
    them; every row gives an item when the purchase has several rows."""
    found = len(problems)
    first = rows[0]
    try:
        at, amount, code = _purchase_columns(first, file, currency)
    except InvalidInput as error:
        problems.append((first.number, error))
    items = []
    for row in rows:
        try:
            if row is not first:
                _check_same_purchase(first, row, file)
            item = _item(row, file, several=len(rows) > 1)
        except InvalidInput as error:
            problems.append((row.number, error))
        else:
            if item is not None:
                items.append(item)
    if len(problems) > found:
        return None
    try:
        return Purchase(
            id=first.get("id"),
            customer_id=first.get("customer_id"),
            at=at,
            amount=amount,
            currency=code,
            items=tuple(items),
            channel=first.get("channel") or None,
            payment=first.get("payment") or None,
        )
    except InvalidInput as error:
        column, expected = error.field, error.expected
        if column == "items":  # their totals do not add up to the amount
            total = sum((item.total for item in items), Decimal(0))
            numbers = ", ".join(str(row.number) for row in rows)
            on_rows = f"row {numbers}" if len(rows) == 1 else f"rows {numbers}"
            column, expected = "amount", f"the total of the items on {on_rows} ({total})"
        where = _where(file, first, column)
        problems.append((first.number, InvalidInput(where, first.get(column), expected)))
        return None


def _purchase_columns(first: _Row, file: str, currency: str) -> tuple[datetime, Decimal, str]:
    """The time, amount and currency of a purchase, from its first row."""
    at = _at(first, file)
    amount = _decimal(first, "amount", file, "12.40")
    code = first.get("currency") or currency
    if code != currency:
        raise InvalidInput(_where(file, first, "currency"), code, f"the program's {currency}")
    return at, amount, code


def _check_same_purchase(first: _Row, row: _Row, file: str) -> None:
    for column in PURCHASE_COLUMNS:
        if row.get(column) != first.get(column):
            raise InvalidInput(
                _where(file, row, column),
                row.get(column),
                f"the same as on row {first.number} ({first.get(column)!r}): rows with the "
                "same id are one purchase",
            )


def _at(row: _Row, file: str) -> datetime:
    text = row.get("at")
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_where(file, row, "at"), text, _AT) from None
    if at.tzinfo is None or at.utcoffset() is None:
        expected = f"{_AT} (a time without one is ambiguous)"
        raise InvalidInput(_where(file, row, "at"), text, expected)
    if not FIRST_YEAR <= at.year <= LAST_YEAR:  # as events must be (custbond._validate)
        expected = f"{_AT}, in the years {FIRST_YEAR} to {LAST_YEAR}"
        raise InvalidInput(_where(file, row, "at"), text, expected)
    return at


def _decimal(row: _Row, column: str, file: str, example: str) -> Decimal:
    """Decimal text such as ``12.40``: digits with an optional point; no sign, exponent or
    thousands separator, and never a float."""
    text = row.get(column)
    if not _DECIMAL.fullmatch(text):
        raise InvalidInput(_where(file, row, column), text, f"a decimal number such as {example}")
    return Decimal(text)


def _item(row: _Row, file: str, *, several: bool) -> LineItem | None:
    """The line item of ``row``: None when it has no ``sku`` (and is the purchase's only
    row)."""
    sku = row.get("sku")
    if not sku:
        given = [column for column in ITEM_COLUMNS[1:] if row.get(column)]
        if several or given:
            why = (
                f"a sku: the row gives the {' and '.join(given)} of an item"
                if given
                else "a sku: rows with the same id are one purchase, one item per row"
            )
            raise InvalidInput(_where(file, row, "sku"), sku, why)
        return None
    quantity_text = row.get("quantity") or "1"
    if not _COUNT.fullmatch(quantity_text) or int(quantity_text) == 0:
        expected = "a whole number from 1 to 999999999 (1 when empty)"
        raise InvalidInput(_where(file, row, "quantity"), quantity_text, expected)
    unit_price = _decimal(row, "unit_price", file, "4.50 (the price of one item)")
    tags = row.get("tags")
    parts = [tag.strip() for tag in tags.split("|")] if tags else []
    if "" in parts:
        expected = "tags separated by '|', such as coffee|hot"
        raise InvalidInput(_where(file, row, "tags"), tags, expected)
    try:
        return LineItem(sku=sku, quantity=int(quantity_text), unit_price=unit_price, tags=parts)
    except InvalidInput as error:
        where = _where(file, row, error.field)
        raise InvalidInput(where, row.get(error.field), error.expected) from None
