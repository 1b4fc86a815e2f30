"""Reading deadlines from a document's own words (groundwork for issue 15's deadlines)."""

from __future__ import annotations

import pytest

from tracker.record.deadlines import read_dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "This rule is effective February 2, 2026. Comments must be received by March 3, 2026.",
            [("effective", "2026-02-02"), ("comments-close", "2026-03-03")],
        ),
        (
            "The U.S. rule is effective January 1, 2026; comments are due February 1, 2026.",
            [("effective", "2026-01-01"), ("comments-close", "2026-02-01")],
        ),
        ("The compliance date is April 1, 2026.", [("compliance", "2026-04-01")]),
        (
            "The effective date of the final rule published on January 15, 2026 is delayed "
            "until May 15, 2026.",
            [("delayed-effective", "2026-05-15")],
        ),
        (
            "商务部决定，暂停实施商务部公告2024年第46号第二款，暂停至2026年11月27日。"
            "本公告自2025年11月10日起施行。",
            [("suspended-until", "2026-11-27"), ("effective", "2025-11-10")],
        ),
        ("Effective February 30, 2026.", []),  # not a date: never a deadline
    ],
)
def test_dates_are_read_with_their_kind(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(d.kind, d.on.isoformat()) for d in read_dates(text).deadlines] == expected


def test_a_date_in_words_no_pattern_places_is_reported_not_guessed() -> None:
    reading = read_dates(
        "A meeting will be held on June 9, 2026. This rule is effective May 1, 2026."
    )
    assert [(d.kind, d.on.isoformat()) for d in reading.deadlines] == [("effective", "2026-05-01")]
    assert reading.not_understood == ["A meeting will be held on June 9, 2026."]
