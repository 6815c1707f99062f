"""A rule file's cadence or review whose ahead is not less than a month at its shortest
is refused in words that say so: "P29D" is less than most months, not than February.

This needs the change to ``custbond.rules.files`` proposed in
/tmp/lead/social_proposals.md (the error repeats "at its shortest (28 days)" from the
InvalidInput that Cadence and KeyReview raise)."""

from __future__ import annotations

import pytest

from custbond.rules.files import RuleFileError, load_program


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        pytest.param(
            '[social.cadence]\nevery = "P1M"\nahead = "P29D"\n',
            'social.cadence.ahead, line 3, column 9: must be less than every ("P1M") at its '
            "shortest (28 days): a task is opened after the last contact, ahead of when it "
            'falls due; got "P29D"',
            id="cadence",
        ),
        pytest.param(
            '[social.reviews]\nevery = "P1M"\nahead = "P29D"\ntags = ["key"]\n',
            'social.reviews.ahead, line 3, column 9: must be less than every ("P1M") at its '
            'shortest (28 days): a task is opened ahead of when it falls due; got "P29D"',
            id="reviews",
        ),
    ],
)
def test_an_ahead_longer_than_february_is_refused_saying_how_short_a_month_can_be(
    table: str, expected: str
) -> None:
    with pytest.raises(RuleFileError) as caught:
        load_program(table)
    assert expected == str(caught.value)
