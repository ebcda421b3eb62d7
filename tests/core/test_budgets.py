"""The pure rules of prices and budgets: cost of a call, which budgets apply, spent, the soft
threshold crossed once, the reset at 00:00 UTC, and the config's mistakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from server.core.budgets import (
    Budget,
    Budgets,
    Limit,
    Spent,
    crossed_soft,
    first_spent,
    is_spent,
    parse_budgets,
    refusal_text,
    seconds_until_reset,
    soft_notice_text,
    spent_fraction,
    usage_day,
)
from server.core.costs import Price, call_cost, parse_prices, usd_text


def test_a_call_costs_input_cached_input_and_output_at_their_prices() -> None:
    price = Price(2.0, 8.0, 0.5)
    assert call_cost(price, 1_000_000, 0) == pytest.approx(2.0)
    assert call_cost(price, 1_000_000, 500_000, cached_input_tokens=400_000) == pytest.approx(1.2 + 0.2 + 4.0)
    assert call_cost(Price(2.0, 8.0), 1000, 0, cached_input_tokens=1000) == pytest.approx(0.002)  # no cached price
    assert call_cost(price, 10, 0, cached_input_tokens=99) == pytest.approx(10 * 0.5 / 1e6)  # cached is a part
    assert call_cost(None, 10**9, 10**9) == 0.0


def test_prices_parse_and_mistakes_are_named() -> None:
    prices = parse_prices({"gpt-x": {"input_per_million": 1, "output_per_million": 4.5},
                           "big": {"input_per_million": 3, "output_per_million": 15, "cached_input_per_million": 0.3}})
    assert prices == {"gpt-x": Price(1.0, 4.5), "big": Price(3.0, 15.0, 0.3)}
    assert parse_prices(None) == {}
    for bad, words in [
        ({"m": {"input_per_million": 1}}, 'prices."m": output_per_million is required'),
        ({"m": {"input_per_million": -1, "output_per_million": 1}}, 'prices."m".input_per_million must be a number'),
        ({"m": {"input_per_million": "1", "output_per_million": 1}}, "got '1'"),
        ({"m": {"input_per_million": 1, "output_per_million": True}}, "output_per_million"),
        ({"m": {"input_per_million": 1, "output_per_million": 1, "per_call": 2}}, "unknown field(s) per_call"),
        ({"m": 3}, 'prices."m" must be a table'),
        ([1], "prices must be a table"),
    ]:
        with pytest.raises(ValueError) as caught:
            parse_prices(bad)
        assert words in str(caught.value)


def test_budgets_parse_and_apply_to_the_agent_and_the_asker() -> None:
    budgets = parse_budgets({"per_person_usd_per_day": 2, "per_person_tokens_per_day": 100_000, "soft_percent": 90,
                             "people": {"boss": {"usd_per_day": 50}}, "agents": {"writer": {"tokens_per_day": 10}}})
    assert budgets.soft_fraction == 0.9
    assert budgets.applying("writer", "alice") == [Budget("agent", "writer", Limit(None, 10)),
                                                   Budget("person", "alice", Limit(2.0, 100_000))]
    assert budgets.applying("coder", "boss") == [Budget("person", "boss", Limit(50.0, None))]
    assert Budgets().applying("writer", "alice") == []
    assert parse_budgets(None) == Budgets()
    for bad, words in [
        ({"per_person_usd": 1}, "unknown field(s) per_person_usd"),
        ({"agents": {"w": {}}}, 'budgets.agents."w": give usd_per_day and/or tokens_per_day'),
        ({"agents": {"w": {"usd_per_day": -2}}}, 'budgets.agents."w".usd_per_day must be a number, 0 or more'),
        ({"people": {"p": {"tokens_per_day": 1.5}}}, "whole number of tokens"),
        ({"soft_percent": 0}, "soft_percent must be more than 0"),
        ({"people": ["p"]}, "budgets.people must be a table"),
    ]:
        with pytest.raises(ValueError) as caught:
            parse_budgets(bad)
        assert words in str(caught.value)


def test_spent_and_the_soft_threshold_is_crossed_by_one_call_only() -> None:
    limit = Limit(usd_per_day=1.0, tokens_per_day=1000)
    assert spent_fraction(Spent(0.5, 900), limit) == 0.9  # the larger part counts
    assert not is_spent(Spent(0.99, 999), limit) and is_spent(Spent(1.0, 0), limit) and is_spent(Spent(0, 1000), limit)
    assert is_spent(Spent(), Limit(usd_per_day=0))  # a budget of 0 allows nothing
    assert crossed_soft(Spent(0.7, 0), Spent(0.8, 0), limit, 0.8)
    assert crossed_soft(Spent(0.1, 0), Spent(1.5, 0), limit, 0.8)  # straight past it: still told once
    assert not crossed_soft(Spent(0.8, 0), Spent(0.9, 0), limit, 0.8)  # already told
    assert not crossed_soft(Spent(0.1, 0), Spent(0.7, 0), limit, 0.8)
    agent, person = Budget("agent", "w", Limit(1.0)), Budget("person", "p", Limit(2.0))
    assert first_spent([(agent, Spent(0.5)), (person, Spent(2.0))]) == (person, Spent(2.0))
    assert first_spent([(agent, Spent(0.5)), (person, Spent(1.0))]) is None


def test_every_budget_resets_at_midnight_utc() -> None:
    assert seconds_until_reset(datetime(2026, 3, 1, 23, 0, tzinfo=UTC)) == 3600
    assert seconds_until_reset(datetime(2026, 3, 1, 0, 0, tzinfo=UTC)) == 86_400
    assert seconds_until_reset(datetime(2026, 3, 1, 23, 59, 59, 500_000, tzinfo=UTC)) == 1  # never 0
    berlin = timezone(timedelta(hours=1))
    assert seconds_until_reset(datetime(2026, 3, 2, 0, 30, tzinfo=berlin)) == 1800  # 23:30 UTC
    assert usage_day(datetime(2026, 3, 2, 0, 30, tzinfo=berlin)) == "2026-03-01"


def test_what_people_read() -> None:
    person = Budget("person", "alice", Limit(usd_per_day=2.5, tokens_per_day=100_000))
    assert refusal_text(person, 3 * 3600 + 61) == ("alice's daily budget ($2.50 / 100,000 tokens) is spent, so I did "
                                                 "not call the model. It resets at 00:00 UTC, in 3 h 2 min.")
    agent = Budget("agent", "writer", Limit(usd_per_day=0.003))
    assert soft_notice_text(agent, Spent(0.0025)) == ("Heads-up: 83 % of @writer's daily budget ($0.003) is spent "
                                                     "(resets at 00:00 UTC).")
    assert [usd_text(v) for v in (1234.5, 0.0016, 0, 2)] == ["$1,234.50", "$0.0016", "$0.00", "$2.00"]
