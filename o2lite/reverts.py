"""Naming an on-chain revert: which contract error, which variant, and what to do about it.

A revert arrives as ``{message: "Revert(<code>)" | "Failed to process transaction", reason,
receipts}`` (PROTOCOL §3). The ``reason`` text (the backend's rendering of the receipts) and the
structured receipts carry what failed, in one of these forms, tried in order:

1. the decoded log: ``LogResult { results: [..., Ok("VariantName")] }`` — the last known name;
2. a ``LogData`` receipt: ``rb`` is the ABI log id of the error enum, the first 8 bytes of
   ``data`` its 0-based variant;
3. the revert code: 123 is the dispatcher's "no such method" (the account's contract predates
   what was called — parallel nonces: ``Trader.upgrade()``); ``0xffffffffffff000N`` are the
   standard library's signals (failed require, assert, …);
4. the literal ``No upgrade available`` of the proxy's require.

Facts: the log ids and variant lists are those of the contracts' ABI ``loggedTypes``, as the
official o2-sdk 0.5.0 ships them (``onchain_revert.py``), and for trigger orders
(``TriggerOrderCreationError``, ``TriggerOrderCancelError``) the official TypeScript SDK 0.4.0's
(PROTOCOL §14, *read*: not yet seen from a live server); the signal codes are
``sway-lib-std``'s ``error_signals.sw``. The descriptions are o2lite's own words.

>>> describe_revert("Revert(123)", None).name
'MismatchedSelector'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

from ._parse import digits

__all__ = ["RevertInfo", "describe_revert", "shortfall_message", "plain_decimal", "SHORTFALLS", "ERROR_ENUMS", "SIGNALS",
           "MISMATCHED_SELECTOR"]

MISMATCHED_SELECTOR = 123  # Sway's dispatcher: the called method does not exist on this contract

#: ABI log id → (error enum, [(variant, what it means)]).
ERROR_ENUMS: Dict[int, Tuple[str, List[Tuple[str, str]]]] = {
    537125673719950211: ("SetProxyOwnerError", [("CannotUninitialize", "the proxy owner cannot be unset")]),
    821289540733930261: ("CallerError", [("InvalidCaller", "the caller may not do this")]),
    1043998670105365804: ("OrderCancelError", [
        ("NotOrderOwner", "only the order's owner can cancel it"),
        ("TraderNotBlacklisted", "the trader is not blacklisted"),
        ("NoBlacklist", "this market has no blacklist")]),
    2735857006735158246: ("SessionError", [
        ("SessionInThePast", "the session expiry is in the past: open a new session"),
        ("NoApprovedContractIdsProvided", "a session needs at least one market contract")]),
    4755763688038835574: ("FeeError", [("NoFeesAvailable", "there are no fees to collect")]),
    4997665884103701952: ("PauseError", [("Paused", "the market is paused"), ("NotPaused", "the market is not paused")]),
    5347491661573165298: ("WhitelistError", [
        ("TraderAlreadyWhitelisted", "the account is already whitelisted"),
        ("TraderNotWhitelisted", "the account is not whitelisted")]),
    8930260739195532515: ("OrderBookInitializationError", [
        ("InvalidAsset", "invalid asset (market setup)"), ("InvalidDecimals", "invalid decimals (market setup)"),
        ("InvalidPriceWindow", "invalid price window (market setup)"),
        ("InvalidPricePrecision", "invalid price precision (market setup)"),
        ("OwnerNotSet", "owner not set (market setup)"), ("InvalidMinOrder", "invalid minimum order (market setup)")]),
    9305944841695250538: ("TradeAccountRegistryError", [
        ("OwnerAlreadyHasTradeAccount", "this owner already has a trade account"),
        ("TradeAccountNotRegistered", "no such trade account: run setup_account() first"),
        ("TradeAccountAlreadyHasReferer", "the account already has a referer")]),
    11035215306127844569: ("SignerError", [
        ("InvalidSigner", "the signature is not the session's or owner's"),
        ("ProxyOwnerIsContract", "a contract cannot own a proxy")]),
    12033795032676640771: ("OrderCreationError", [
        ("InvalidOrderArgs", "the order's arguments are invalid"),
        ("InvalidInputAmount", "the forwarded amount does not match price × quantity: check the balance"),
        ("InvalidAsset", "wrong asset for this market"),
        ("PriceExceedsRange", "the price is outside the market's allowed range"),
        ("PricePrecision", "the price is not a multiple of the market's price step"),
        ("InvalidHeapPrices", "the order book's internal state was inconsistent: retry"),
        ("FractionalPrice", "price × quantity must be a whole quote amount"),
        ("OrderNotFilled", "the FillOrKill order could not be filled completely"),
        ("OrderPartiallyFilled", "the PostOnly order would have taken liquidity"),
        ("TraderNotWhiteListed", "the account is not whitelisted"),
        ("TraderBlackListed", "the account is blacklisted on this market"),
        ("InvalidMarketOrder", "market orders are not supported on this order book"),
        ("InvalidMarketOrderArgs", "invalid bounds for a bounded market order")]),
    12825652816513834595: ("InitializationError", [("CannotReinitialized", "already initialised")]),
    13517258236389385817: ("BlacklistError", [
        ("TraderAlreadyBlacklisted", "the account is already blacklisted"),
        ("TraderNotBlacklisted", "the account is not blacklisted")]),
    14509209538366790003: ("SignatureError", [
        ("UnrecoverablePublicKey", "no public key can be recovered from the signature"),
        ("InvalidPublicKey", "the public key is invalid"), ("InvalidSignature", "the signature does not verify"),
        ("InvalidOperation", "invalid cryptographic operation")]),
    14888260448086063780: ("WithdrawError", [
        ("AmountIsZero", "the withdrawal amount is zero"), ("NotEnoughBalance", "not enough balance to withdraw")]),
    17376141311665587813: ("AccessError", [("NotOwner", "only the contract owner may do this")]),
    17909535172322737929: ("NonceError", [("InvalidNonce", "the nonce is stale or out of order: re-read it")]),
    # Trigger orders (PROTOCOL §14): the official TypeScript SDK 0.4.0's refreshed order-book ABI.
    1559614116885970782: ("TriggerOrderCreationError", [
        ("InvalidArgs", "the trigger's arguments are invalid"),
        ("PricePrecision", "a trigger or limit price is not a multiple of the market's price step"),
        ("InvalidOrderType", "this order type cannot carry or become a trigger"),
        ("InvalidMarketOrderArgs", "invalid bounds for the trigger's bounded market order"),
        ("FractionalPrice", "quantity × a trigger's price is not a whole quote amount"),
        ("InvalidAsset", "wrong asset forwarded for the trigger's side"),
        ("InvalidInputAmount", "the forwarded lock does not match the trigger's escrow: check the balance"),
        ("ZeroTriggerPrice", "the trigger price is zero"),
        ("ZeroLimitPrice", "the trigger's limit price is zero"),
        ("QuantityMustBeParentOrder", "a leg attached at placement must inherit the order's quantity (ParentOrder)"),
        ("ZeroResolvedQtyOrPrice", "the trigger resolved to a zero quantity or price"),
        ("InvalidParentOrderId", "the parent order id is invalid"),
        ("ParentOrderIsNotSpot", "triggers attach only to resting Spot orders"),
        ("ParentOrderFilled", "the parent order is already filled"),
        ("ParentOrderNotFound", "no such parent order"),
        ("ParentTriggerSlotsExhausted", "the parent order already carries its maximum number of triggers"),
        ("ParentOrderOwnerMismatch", "the parent order belongs to another account"),
        ("TriggerPriceSameAsParent", "a trigger price equals the parent order's price"),
        ("TriggerSideSameAsParent", "a protective leg must take the closing side (opposite to the parent)"),
        ("SlippageExceedsMax", "the bounded market leg's band is wider than the contract allows"),
        ("OcoSameTriggerPrice", "the two OCO legs have the same trigger price"),
        ("OcoNotStopAndTakeProfit", "an OCO pair must be one stop and one take-profit"),
        ("LimitPriceCrossesParent", "the trigger's limit price crosses the parent order's price"),
        ("ParentQuantityMismatch", "the parent's quantity is not the expected_quantity signed"),
        ("TraderNotWhiteListed", "the account is not whitelisted"),
        ("TraderBlackListed", "the account is blacklisted on this market")]),
    11872035487494935780: ("TriggerOrderCancelError", [
        ("NotOrderOwner", "only the trigger's owner can cancel it"),
        ("TraderNotBlacklisted", "the trader is not blacklisted"),
        ("OrderDoesNotExist", "no such active trigger order")]),
}
#: Variants of the contract's ExtendedNonceError (parallel nonces), not in the bundled ABI.
NONCE_VARIANTS = ("ReservedBitsSet", "BitmapPositionOutOfRange", "NonceSessionIdOutOfRange", "Expired",
                  "WordPosOutOfWindow", "AlreadyUsed")
#: sway-lib-std error signals: the revert code of a failed require/assert/…
SIGNALS = {0xFFFF_FFFF_FFFF_0000: "FailedRequire", 0xFFFF_FFFF_FFFF_0001: "FailedTransferToAddress",
           0xFFFF_FFFF_FFFF_0003: "FailedAssertEq", 0xFFFF_FFFF_FFFF_0004: "FailedAssert",
           0xFFFF_FFFF_FFFF_0005: "FailedAssertNe", 0xFFFF_FFFF_FFFF_0006: "RevertWithLog"}

_BY_VARIANT: Dict[str, Tuple[str, str]] = {}
for _enum, _variants in ERROR_ENUMS.values():
    for _name, _text in _variants:
        _BY_VARIANT.setdefault(_name, (_enum, _text))
for _name in NONCE_VARIANTS:
    _BY_VARIANT.setdefault(_name, ("ExtendedNonceError", "the parallel nonce was refused on chain"))

_OK = re.compile(r'Ok\(\\?"([A-Za-z0-9_]+)\\?"\)')
# Receipt text is read record by record (see _records), each field with one search that cannot
# backtrack: the reason is the server's text. (One pattern spanning ``LogData { … rb: … Bytes(``
# with lazy gaps rescanned the rest of the text from every ``LogData {``: 8 s for 10 KB.)
_REVERT_CODE = re.compile(r"Revert\((\d{1,20})\)", re.ASCII)  # ASCII: "١" is \d too
_RA = re.compile(r"\bra: (\d{1,20})", re.ASCII)
_RB = re.compile(r"\brb: (\d{1,20})", re.ASCII)
_BYTES = re.compile(r"Bytes\(([0-9a-fA-F]{16,})", re.ASCII)


def _records(text: str, kind: str) -> List[str]:
    """The fields of every ``<kind> { … }`` record of a receipts dump (``LogData { id: …, rb: …,
    data: Some(Bytes(…)) } Revert { … }``), in order. A record's fields hold no braces, so each
    piece between two ``}`` holds at most one record: the text after its last ``<kind> {``.
    One split and one ``rfind`` per piece: linear in the text."""
    opening = kind + " {"
    found = []
    for piece in text.split("}"):
        start = piece.rfind(opening)
        if start >= 0:
            found.append(piece[start + len(opening):])
    return found


@dataclass(frozen=True)
class RevertInfo:
    """What a revert says: ``error`` (the enum, e.g. ``OrderCreationError``), ``name`` (the
    variant or signal), ``description`` (a hint in plain words) and ``code`` (the revert code)."""

    error: Optional[str]
    name: Optional[str]
    description: Optional[str]
    code: Optional[int]

    @property
    def label(self) -> str:
        """``Error::Variant`` (or the variant or signal alone)."""
        return "::".join(x for x in (self.error, self.name) if x)

    def __str__(self) -> str:
        """The cause in plain words first, then the contract's own name for it."""
        return f"{self.description} ({self.label})" if self.description else self.label


#: Variants that mean "the account holds less than this needs" (order creation, withdrawal).
SHORTFALLS = frozenset({"InvalidInputAmount", "NotEnoughBalance"})


def shortfall_message(symbol: str, available: Optional[Decimal], needed: Decimal, doing: str,
                      info: RevertInfo, message: str, *, fix: str = "deposit or fund first") -> str:
    """A shortfall revert told the way a user reads it: the cause in human units, what it was
    for, the fix, then the chain detail.

    >>> info = RevertInfo("WithdrawError", "NotEnoughBalance", "", None)
    >>> shortfall_message("USDC", Decimal("0"), Decimal("1.2"), "to withdraw", info, "Revert(1)")
    'not enough USDC: 0 available, 1.2 needed to withdraw (deposit or fund first) — WithdrawError::NotEnoughBalance, Revert(1)'
    """
    have = "" if available is None else f"{plain_decimal(available)} available, "
    return (f"not enough {symbol}: {have}{plain_decimal(needed)} needed {doing} ({fix}) — "
            f"{info.label}, {message}")


def plain_decimal(value: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros (``1E-7`` → ``0.0000001``).

    >>> plain_decimal(Decimal("1E-7")), plain_decimal(Decimal("1200.500"))
    ('0.0000001', '1200.5')
    """
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _codes(text: str, receipts: Any) -> List[int]:
    codes = [int(code) for code in _REVERT_CODE.findall(text)]
    codes += [int(found.group(1)) for found in map(_RA.search, _records(text, "Revert")) if found]
    stack = [receipts]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            revert = node.get("Revert")
            if not isinstance(revert, Mapping):
                revert = node if node.get("type") == "Revert" else {}
            code = digits(str(revert.get("ra", "")))
            if code is not None:
                codes.append(code)
            stack.extend(v for v in node.values() if isinstance(v, (Mapping, list)))
        elif isinstance(node, list):
            stack.extend(node[:200])
    return codes


def describe_revert(reason: Any, receipts: Any, message: str = "") -> Optional[RevertInfo]:
    """Decode what a revert's ``reason``/``receipts`` (and ``message``) name, or ``None``."""
    text = f"{message} {reason if isinstance(reason, str) else ''}"[:200_000]
    codes = _codes(text, receipts)
    code = codes[-1] if codes else None
    names = [n for n in _OK.findall(text) if n in _BY_VARIANT]
    logged = [(rb.group(1), data.group(1)) for rb, data in
              ((_RB.search(fields), _BYTES.search(fields)) for fields in _records(text, "LogData")) if rb and data]
    if names:
        # a name several enums share (FractionalPrice…) is told apart by the logged enum's id
        for log_id, _ in reversed(logged):
            variants = dict(ERROR_ENUMS.get(int(log_id), ("", []))[1])
            if names[-1] in variants:
                return RevertInfo(ERROR_ENUMS[int(log_id)][0], names[-1], variants[names[-1]], code)
        error, description = _BY_VARIANT[names[-1]]
        return RevertInfo(error, names[-1], description, code)
    for log_id, data in reversed(logged):
        entry = ERROR_ENUMS.get(int(log_id))
        if entry:
            index = int(data[:16], 16)
            if index < len(entry[1]):
                return RevertInfo(entry[0], entry[1][index][0], entry[1][index][1], code)
            return RevertInfo(entry[0], f"unknown({index})", None, code)
    if "no upgrade available" in text.lower():
        return RevertInfo("Proxy", "NoUpgradeAvailable", "the account's contract is already current", code)
    if MISMATCHED_SELECTOR in codes:
        return RevertInfo(None, "MismatchedSelector", "the account's contract has no such method: it predates "
                                                      "parallel nonces — run Trader.upgrade()", code)
    if code in SIGNALS:
        return RevertInfo(None, SIGNALS[code], "a contract check failed (no decoded error in the receipts)", code)
    for name, (error, description) in _BY_VARIANT.items():  # a sandbox or a backend naming the variant plainly
        if re.search(rf"\b{name}\b", text):
            return RevertInfo(error, name, description, code)
    return None
