"""Building a ``CreateOrder``: an option that belongs to another order type is refused, never
silently applied or dropped (issue #20)."""

from __future__ import annotations

import pytest

from o2lite.errors import ValidationError
from o2lite.market import Market
from o2lite.order_building import create_order_action

from .conftest import market_json

MARKET = Market.from_json(market_json())


def build(order_type="Spot", **options):
    return create_order_action(MARKET, "Buy", "0.0120", "1000", order_type, clock=lambda: 1_700_000_000, **options)


@pytest.mark.parametrize("order_type", ["Market", "FillOrKill", "Limit", "BoundedMarket", "market",
                                        {"Limit": ["12000", "1700000000"]}])
def test_post_only_with_another_order_type_is_refused(order_type):
    extra = {"max_price": "0.013", "min_price": "0.011"} if order_type == "BoundedMarket" else {}
    with pytest.raises(ValidationError, match="post_only=True makes a PostOnly order"):
        build(order_type, post_only=True, **extra)


@pytest.mark.parametrize("order_type", ["Spot", "Market", "FillOrKill", "PostOnly", "Limit",
                                        {"BoundedMarket": {"max_price": "13000", "min_price": "11000"}}])
def test_bounds_belong_to_bounded_market_only(order_type):
    for bound in ({"max_price": "0.013"}, {"min_price": "0.011"}):
        with pytest.raises(ValidationError, match="belong to a BoundedMarket"):
            build(order_type, **bound)


@pytest.mark.parametrize("order_type", ["Spot", "Market", "FillOrKill", "PostOnly", "BoundedMarket",
                                        {"Limit": ["12000", "1700000000"]}])
def test_limit_timestamp_belongs_to_limit_by_name_only(order_type):
    with pytest.raises(ValidationError, match="belongs to a Limit order"):
        build(order_type, limit_timestamp=1_900_000_000, max_price="0.013", min_price="0.011") \
            if order_type == "BoundedMarket" else build(order_type, limit_timestamp=1_900_000_000)


def test_options_that_fit_their_type_still_build():
    assert build(post_only=True)["CreateOrder"]["order_type"] == "PostOnly"
    assert build("PostOnly", post_only=True)["CreateOrder"]["order_type"] == "PostOnly"
    assert build("Market")["CreateOrder"]["order_type"] == "Market"
    assert build("Limit", limit_timestamp=1_900_000_000)["CreateOrder"]["order_type"] == {
        "Limit": ["12000", "1900000000"]}
    assert build("BoundedMarket", max_price="0.013", min_price="0.011")["CreateOrder"]["order_type"] == {
        "BoundedMarket": {"max_price": "13000", "min_price": "11000"}}
