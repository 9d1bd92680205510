"""Revert reasons are the server's text: naming a revert costs linear time whatever the reason
says (issue #20). Growth is judged by CPU-time ratios between sizes, never by a clock budget."""

from __future__ import annotations

import json

import pytest

import o2lite
from o2lite.reverts import describe_revert

from .conftest import BASE
from .test_json import SIZES, assert_linear, cpu_seconds

#: Receipt-like texts that made the old record patterns rescan the rest of the reason from every
#: record opening (a 10 KB one cost 8 s), and a real two-record dump repeated.
HOSTILE = {
    "LogData openings": lambda n: "LogData {" * (n // 9),
    "LogData with rb, never Bytes": lambda n: "LogData { rb: 1" * (n // 15),
    "Revert openings": lambda n: "Revert {" * (n // 8),
    "Ok openings": lambda n: 'Ok("' * (n // 4),
    "real dump repeated": lambda n: ("LogData { id: 0x00, ra: 0, rb: 12033795032676640771, ptr: 1, len: 8, "
                                     "data: Some(Bytes(0000000000000007)) } Revert { id: 0x00, ra: 1 } ") * (n // 120),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_naming_a_revert_costs_linear_time(name):
    build = HOSTILE[name]
    assert_linear(lambda size: cpu_seconds(lambda: describe_revert(build(size), None, "Failed to process transaction")),
                  [2560, 10 * 1024, 40 * 1024, 160 * 1024])


def test_a_hostile_revert_answer_costs_the_client_linear_time(mocked, client):
    def cost(size: int) -> float:
        body = json.dumps({"message": "Failed to process transaction", "reason": HOSTILE["LogData with rb, never Bytes"](
            size - 100), "receipts": None})
        mocked.replace("GET", BASE + "/v1/depth", body=body, status=400, content_type="application/json")

        def run() -> None:
            with pytest.raises(o2lite.O2Error):
                client.transport.request("GET", "/v1/depth", params={"market_id": "0x" + "a1" * 32})
        return cpu_seconds(run)

    mocked.get(BASE + "/v1/depth", body="{}")
    assert_linear(cost, SIZES[:4])  # past 200,000 characters the reason is cut: test_json covers that


def test_records_are_still_read_field_by_field():
    dump = ("Receipts: LogData { id: 0x00, ra: 0, rb: 12033795032676640771, ptr: 1, len: 8, digest: 0x00, "
            "pc: 1, is: 1, data: Some(Bytes(0000000000000007)) } Revert { id: 0x00, ra: 18446744073709486080 }")
    info = describe_revert(dump, None, "Failed to process transaction")
    assert info is not None and (info.error, info.name, info.code) == ("OrderCreationError", "OrderNotFilled",
                                                                       18446744073709486080)
    assert describe_revert("Revert { id: 0x00, ra: 123 }", None).name == "MismatchedSelector"
    assert describe_revert("LogData { rb: 12033795032676640771 } data: Some(Bytes(0000000000000007))", None) is None
