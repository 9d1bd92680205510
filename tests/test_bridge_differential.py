"""Differential test of the three offline parsers against the reference rules (o2-sdk 0.5.0's
``o2_sdk/bridge/inspection.py``, restated here independently of ``o2lite.bridge``).

Each generator builds transactions (or proofs) from a random description with a fixed seed, so it
knows what the reference parser answers: the inspection for a valid one, a refusal for a mutation
that breaks a rule. On top of that, random byte mutations:

- deposits: whatever the parser accepts must be the *canonical* encoding of what it reports
  (re-encoding the reported fields gives back the exact bytes), so nothing noncanonical slips in;
- withdrawals: every byte is labelled by the generator — free and signed (any value is accepted and
  the id changes), free and zeroed for the id (accepted, id unchanged) or constrained — and a flip
  of a free byte must be accepted with exactly the id the labels predict;
- proofs: a flip must be refused unless the result is again canonical base64url of valid claims.

Counts are bounded and seeded. The generators were run once by hand through o2-sdk 0.5.0's own
parsers (outside this repository, see the branch report): the same verdicts and ids.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from o2lite.bridge import parse_evm_unsigned_transaction, parse_fuel_unsigned_transaction, parse_preparation_proof
from o2lite.errors import ValidationError
from o2lite.keccak import keccak256

SEED = 24

# --- deposits (EIP-1559) ------------------------------------------------------------------


def rlp(item: Any) -> bytes:
    """Canonical RLP (independent of o2lite.bridge.evm)."""
    def prefix(n: int, base: int) -> bytes:
        if n < 56:
            return bytes([base + n])
        ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([base + 55 + len(ln)]) + ln
    if isinstance(item, bytes):
        return item if len(item) == 1 and item[0] < 0x80 else prefix(len(item), 0x80) + item
    body = b"".join(rlp(x) for x in item)
    return prefix(len(body), 0xC0) + body


def minimal(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


SIGNATURES = {"deposit": "deposit(bytes32,address,uint256,bool)",
              "depositWithPermit": "depositWithPermit(bytes32,address,uint256,uint256,uint8,bytes32,bytes32,bool)",
              "depositETH": "depositETH(bytes32,bool)"}
SELECTOR = {k: keccak256(v.encode())[:4] for k, v in SIGNATURES.items()}


def rand_int(rng: random.Random, bits: int = 256) -> int:
    return rng.choice([0, 1, 127, 128, 255, 256, rng.getrandbits(rng.randint(1, bits)), 2**bits - 1])


def gen_deposit(rng: random.Random) -> Dict[str, Any]:
    method = rng.choice(list(SIGNATURES))
    fee = rand_int(rng)
    words: List[int] = [rng.getrandbits(256)]
    if method != "depositETH":
        words += [rng.getrandbits(160), rand_int(rng)]
        if method == "depositWithPermit":
            words += [rand_int(rng), rng.randint(0, 255), rng.getrandbits(256), rng.getrandbits(256)]
    words.append(rng.randint(0, 1))
    return {"chain": rng.choice([1, 8453, 11155111, rand_int(rng) or 1]), "nonce": rand_int(rng, 64),
            "prio": rng.randint(0, fee), "fee": fee, "gas": rand_int(rng, 64), "to": rng.randbytes(20),
            "value": 0 if method != "depositETH" else rand_int(rng), "method": method, "words": words,
            "access": [], "type": 2, "extra": b""}


def encode_deposit(d: Dict[str, Any]) -> bytes:
    data = d.get("data")
    if data is None:
        data = SELECTOR[d["method"]] + b"".join(w.to_bytes(32, "big") for w in d["words"])
    ints = [d["chain"], d["nonce"], d["prio"], d["fee"], d["gas"]]
    fields: List[Any] = [minimal(i) if isinstance(i, int) else i for i in ints]
    fields += [d["to"], minimal(d["value"]) if isinstance(d["value"], int) else d["value"], data, d["access"]]
    fields += d.get("more", [])
    return bytes([d["type"]]) + rlp(fields) + d["extra"]


def check_deposit(raw: bytes, d: Dict[str, Any]) -> None:
    got = parse_evm_unsigned_transaction("0x" + raw.hex())
    w = d["words"]
    assert (got.chain_id, got.nonce, got.max_priority_fee_per_gas, got.max_fee_per_gas, got.gas_limit) == (
        d["chain"], d["nonce"], d["prio"], d["fee"], d["gas"])
    assert got.messenger_address == "0x" + d["to"].hex() and got.value == d["value"] and got.method == d["method"]
    assert got.recipient == "0x" + w[0].to_bytes(32, "big").hex() and got.recipient_is_contract is (w[-1] == 1)
    assert got.estimated_network_fee == d["gas"] * d["fee"]
    assert got.signing_digest == "0x" + keccak256(raw).hex()
    if d["method"] == "depositETH":
        assert (got.token_address, got.amount, got.permit) == (None, d["value"], None)
    else:
        assert got.token_address == "0x" + w[1].to_bytes(20, "big").hex() and got.amount == w[2]
    if d["method"] == "depositWithPermit":
        assert got.permit is not None and (got.permit.deadline, got.permit.v) == (w[3], w[4])
    else:
        assert got.permit is None


def _set(key: str, value: Any) -> Callable[[Dict[str, Any]], None]:
    return lambda d: d.__setitem__(key, value)


def _word(index: int, value: int) -> Callable[[Dict[str, Any]], None]:
    def f(d: Dict[str, Any]) -> None:
        d["words"][index if index >= 0 else len(d["words"]) + index] = value
    return f


#: rule broken → how to break it (each refused by the reference parser)
DEPOSIT_BREAKS: Dict[str, Callable[[Dict[str, Any]], None]] = {
    "type 1": _set("type", 1), "type 3": _set("type", 3), "trailing byte": _set("extra", b"\x00"),
    "chain id 0": _set("chain", 0), "priority above max fee": lambda d: d.update(prio=d["fee"] + 1),
    "leading zero integer": lambda d: d.update(nonce=b"\x00" + minimal(d["nonce"])),
    "33-byte integer": _set("gas", b"\x01" + bytes(32)), "19-byte messenger": lambda d: d.update(to=d["to"][:19]),
    "21-byte messenger": lambda d: d.update(to=d["to"] + b"\x01"), "list as integer": _set("nonce", []),
    "nonempty access list": _set("access", [[bytes(20), []]]), "access list as bytes": _set("access", b""),
    "deep nesting": _set("access", [[[[[]]]]]), "tenth field": _set("more", [b"\x01"]),
    "unknown selector": lambda d: d.update(data=b"\xde\xad\xbe\xef" + bytes(64)),
    "short calldata": lambda d: d.update(data=encode_calldata(d)[:-1]),
    "long calldata": lambda d: d.update(data=encode_calldata(d) + b"\x00" * 32),
    "bool word 2": _word(-1, 2), "bool high bit": _word(-1, 1 << 255),
}
TOKEN_BREAKS = {"token deposit with value": _set("value", 1), "token word high bits": _word(1, 1 << 160)}
PERMIT_BREAKS = {"permit v 256": _word(4, 256)}


def encode_calldata(d: Dict[str, Any]) -> bytes:
    return SELECTOR[d["method"]] + b"".join(w.to_bytes(32, "big") for w in d["words"])


def test_deposits_generated_and_broken_rule_by_rule():
    rng = random.Random(SEED)
    accepted = refused = 0
    for _ in range(150):
        d = gen_deposit(rng)
        check_deposit(encode_deposit(d), d)
        accepted += 1
        breaks = dict(DEPOSIT_BREAKS)
        if d["method"] != "depositETH":
            breaks.update(TOKEN_BREAKS)
        if d["method"] == "depositWithPermit":
            breaks.update(PERMIT_BREAKS)
        name, brk = rng.choice(sorted(breaks.items()))
        broken = json.loads(json.dumps({k: v for k, v in d.items() if k not in ("to", "extra")}))
        broken.update(to=d["to"], extra=d["extra"])
        brk(broken)
        with pytest.raises(ValidationError):
            parse_evm_unsigned_transaction("0x" + encode_deposit(broken).hex())
        refused += 1
    assert accepted == refused == 150


def test_every_deposit_rule_is_exercised():
    rng = random.Random(SEED + 1)
    for method in SIGNATURES:
        d = gen_deposit(rng)
        while d["method"] != method:
            d = gen_deposit(rng)
        rules = dict(DEPOSIT_BREAKS, **(TOKEN_BREAKS if method != "depositETH" else {}),
                     **(PERMIT_BREAKS if method == "depositWithPermit" else {}))
        for name, brk in rules.items():
            broken = dict(d, words=list(d["words"]))
            brk(broken)
            with pytest.raises(ValidationError):
                parse_evm_unsigned_transaction("0x" + encode_deposit(broken).hex())


def _noncanonical_rlp_variants(raw: bytes) -> List[bytes]:
    """The same list with its outer length in long form with a leading zero byte, and a one-byte
    field below 0x80 wrapped in a string header (both noncanonical: refused)."""
    out = []
    body_len = int.from_bytes(raw[2:2 + raw[1] - 0xF7], "big") if raw[1] > 0xF7 else raw[1] - 0xC0
    body = raw[-body_len:]
    ln = minimal(body_len)
    out.append(bytes([2, 0xF7 + len(ln) + 1, 0]) + ln + body)
    if body_len < 56:
        out.append(bytes([2, 0xF8, body_len]) + body)
    return out


def test_deposit_byte_mutations_accept_only_canonical_encodings():
    rng = random.Random(SEED + 2)
    accepted = 0
    for _ in range(120):
        d = gen_deposit(rng)
        raw = encode_deposit(d)
        for variant in _noncanonical_rlp_variants(raw):
            with pytest.raises(ValidationError):
                parse_evm_unsigned_transaction("0x" + variant.hex())
        for _ in range(6):
            m = bytearray(raw)
            kind = rng.randrange(4)
            at = rng.randrange(len(m))
            if kind == 0:
                m[at] ^= 1 << rng.randrange(8)
            elif kind == 1:
                m[at] = rng.randrange(256)
            elif kind == 2:
                del m[at:at + rng.randint(1, 4)]
            else:
                m[at:at] = rng.randbytes(rng.randint(1, 3))
            try:
                got = parse_evm_unsigned_transaction("0x" + bytes(m).hex())
            except ValidationError:
                continue
            accepted += 1
            words = bytes.fromhex(got.data[2:])[4:]
            again = dict(chain=got.chain_id, nonce=got.nonce, prio=got.max_priority_fee_per_gas, fee=got.max_fee_per_gas,
                         gas=got.gas_limit, to=bytes.fromhex(got.messenger_address[2:]), value=got.value,
                         method=got.method, words=[int.from_bytes(words[i:i + 32], "big") for i in range(0, len(words), 32)],
                         access=[], type=2, extra=b"")
            assert encode_deposit(again) == bytes(m)  # accepted ⇒ canonical, nothing ignored
            check_deposit(bytes(m), again)
    assert accepted > 50  # flips inside addresses, words and integers stay valid


# --- withdrawals (Fuel Script) --------------------------------------------------------------

S, Z, C, ZC = "s", "z", "c", "Z"  # signed-free, zeroed-free, constrained, zeroed-but-constrained


class Tx:
    """Bytes with a label per byte."""

    def __init__(self) -> None:
        self.raw = bytearray()
        self.labels: List[str] = []

    def put(self, data: bytes, label: str) -> None:
        self.raw += data
        self.labels += [label] * len(data)

    def u64(self, n: int, label: str) -> None:
        self.put(n.to_bytes(8, "big"), label)

    def counted(self, n: int, low_bytes: int, low_label: str) -> None:
        """A u64 bounded to ``low_bytes`` bytes: the high bytes are constrained (must stay 0)."""
        self.put(bytes(8 - low_bytes), C)
        self.put(n.to_bytes(low_bytes, "big"), low_label)


SELECTOR_TEXT = b"withdraw_via_fast_bridge_with_fee"


def script_for(max_inputs: int) -> bytes:
    off = 192 + 40 * max_inputs
    ins = [0x72400000 | (off + 40), 0x72440000 | off, 0x5D451000, 0x72480000 | (off + 8), 0x2D41148A, 0x24040000]
    return b"".join(i.to_bytes(4, "big") for i in ins)


def gen_withdrawal(rng: random.Random) -> Dict[str, Any]:
    max_inputs = rng.choice([1, 2, 8, 255, 511, rng.randint(3, 6000)])
    registry = rng.randbytes(32)
    n_in = rng.randint(1, min(max_inputs, 6))
    inputs: List[Dict[str, Any]] = [{"kind": rng.choice(["coin", "contract", "message"])} for _ in range(n_in)]
    inputs[rng.randrange(n_in)] = {"kind": "contract", "id": registry}
    for i in inputs:
        i.setdefault("id", rng.randbytes(32))
    contracts = [k for k, i in enumerate(inputs) if i["kind"] == "contract"]
    outputs = [{"kind": rng.choice(["contract", "change", "variable"])} for _ in range(rng.randint(0, 5))]
    for o in outputs:
        if o["kind"] == "contract":
            o["index"] = rng.choice(contracts)
    gross = rng.getrandbits(64)
    recipient = rng.randbytes(20)
    if sum(1 for b in recipient if b) < 2:
        recipient = b"\x01\x02" + recipient[2:]
    mask = rng.getrandbits(6) | 0b11000  # maxFee and expiration are required
    return {"max_inputs": max_inputs, "chain": rng.choice([0, 9889, 2**64 - 1, rng.getrandbits(64)]),
            "registry": registry, "inputs": inputs, "outputs": outputs, "gross": gross, "fee": rng.randint(0, gross),
            "recipient": recipient, "mask": mask, "expiration": rng.getrandbits(32), "asset": rng.randbytes(32),
            "sub": rng.randbytes(32), "dest": rng.getrandbits(32), "gas": rng.getrandbits(64)}


def encode_withdrawal(w: Dict[str, Any], rng: random.Random) -> Tx:
    t = Tx()
    off = 192 + 40 * w["max_inputs"]
    data = Tx()
    data.put(w["gross"].to_bytes(8, "big"), C)
    data.put(w["asset"], S)
    data.put(w["registry"], C)
    data.u64(off + 88, C)
    data.u64(off + 88 + 8 + len(SELECTOR_TEXT), C)
    data.u64(len(SELECTOR_TEXT), C)
    data.put(SELECTOR_TEXT, C)
    data.put(w["sub"], S)
    data.put(w["dest"].to_bytes(4, "big"), S)
    data.put(bytes(12), C)
    data.put(w["recipient"], S)
    data.u64(w["fee"], C)
    t.u64(0, C)
    t.u64(w["gas"], S)
    t.put(rng.randbytes(32), Z)
    t.u64(24, C)
    t.u64(len(data.raw), C)
    t.u64(w["mask"], C)
    t.u64(len(w["inputs"]), C)
    t.u64(len(w["outputs"]), C)
    t.u64(1, ZC)
    t.put(script_for(w["max_inputs"]), C)
    t.put(bytes(data.raw), "")
    t.labels[-len(data.raw):] = data.labels
    t.put(bytes(-len(data.raw) % 8), C)
    for bit, name in enumerate(["tip", "witnessLimit", "maturity", "maxFee", "expiration", "owner"]):
        if w["mask"] >> bit & 1:
            if name == "expiration":
                t.put(bytes(4), C)
                t.put(w["expiration"].to_bytes(4, "big"), S)
            else:
                t.put(rng.randbytes(8), S)
    for i in w["inputs"]:
        if i["kind"] == "contract":
            t.u64(1, C)
            t.put(rng.randbytes(32), Z)
            t.counted(rng.getrandbits(16), 2, Z)
            t.put(rng.randbytes(64), Z)
            t.counted(rng.getrandbits(32), 4, Z)
            t.counted(rng.getrandbits(16), 2, Z)
            t.put(i["id"], C if i["id"] == w["registry"] else S)
        elif i["kind"] == "coin":
            t.u64(0, C)
            t.put(rng.randbytes(32), S)
            t.counted(rng.getrandbits(16), 2, S)
            t.put(rng.randbytes(32 + 8 + 32), S)
            t.counted(rng.getrandbits(32), 4, Z)
            t.counted(rng.getrandbits(16), 2, Z)
            t.u64(0, C)
            t.u64(0, ZC)
            t.u64(0, C)
            t.u64(0, C)
        else:
            t.u64(2, C)
            t.put(rng.randbytes(32 + 32 + 8 + 32), S)
            t.u64(0, C)
            t.u64(0, ZC)
            t.u64(0, C)
            t.u64(0, C)
            t.u64(0, C)
    for o in w["outputs"]:
        if o["kind"] == "contract":
            t.u64(1, C)
            t.u64(o["index"], C)
            t.put(rng.randbytes(64), Z)
        elif o["kind"] == "change":
            t.u64(2, C)
            t.put(rng.randbytes(32), S)
            t.put(rng.randbytes(8), Z)
            t.put(rng.randbytes(32), S)
        else:
            t.u64(3, C)
            t.put(rng.randbytes(72), Z)  # to, amount and asset id are all execution results
    t.u64(0, C)  # the empty witness (not part of the id)
    return t


def expected_id(t: Tx, chain: int) -> str:
    body = bytes(0 if label in (Z, ZC) else b for b, label in zip(t.raw[:-8], t.labels[:-8]))
    return "0x" + hashlib.sha256(chain.to_bytes(8, "big") + body).hexdigest()


def parse_w(raw: bytes, w: Dict[str, Any]) -> Any:
    return parse_fuel_unsigned_transaction("0x" + bytes(raw).hex(), w["chain"], w["max_inputs"])


def test_withdrawals_generated_and_every_free_byte_flipped():
    rng = random.Random(SEED + 3)
    flips = 0
    for _ in range(80):
        w = gen_withdrawal(rng)
        t = encode_withdrawal(w, rng)
        got = parse_w(t.raw, w)
        assert got.transaction_id == expected_id(t, w["chain"])
        assert (got.gross_amount, got.bridge_fee, got.net_amount) == (w["gross"], w["fee"], w["gross"] - w["fee"])
        assert got.recipient == "0x" + w["recipient"].hex() and got.destination_chain_id == w["dest"]
        assert got.asset_registry_contract_id == "0x" + w["registry"].hex() and got.expiration_block_height == w["expiration"]
        assert [i.type for i in got.inputs] == [i["kind"] for i in w["inputs"]]
        assert [o.type for o in got.outputs] == [o["kind"] for o in w["outputs"]]
        free = [k for k, label in enumerate(t.labels) if label in (S, Z)]
        for at in rng.sample(free, min(25, len(free))):
            m = Tx()
            m.raw, m.labels = bytearray(t.raw), t.labels
            m.raw[at] ^= 1 << rng.randrange(8)
            flipped = parse_w(m.raw, w)
            assert flipped.transaction_id == expected_id(m, w["chain"])
            assert (flipped.transaction_id == got.transaction_id) == (t.labels[at] == Z)
            flips += 1
    assert flips > 1500


def _withdrawal_breaks(w: Dict[str, Any], t: Tx, rng: random.Random) -> Dict[str, Callable[[], Tuple[bytes, int, int]]]:
    """Each returns (raw, chain, max_inputs) that the reference refuses."""
    raw, mi, ch = bytes(t.raw), w["max_inputs"], w["chain"]
    n_data = 205
    data_at = 96 + 24

    def at(offset: int, value: bytes) -> Callable[[], Tuple[bytes, int, int]]:
        return lambda: (raw[:offset] + value + raw[offset + len(value):], ch, mi)

    out: Dict[str, Callable[[], Tuple[bytes, int, int]]] = {
        "not a script (type 1)": at(0, (1).to_bytes(8, "big")),
        "no inputs": at(72, bytes(8)),
        "two witnesses": at(88, (2).to_bytes(8, "big")),
        "unknown policy bit": at(64, (w["mask"] | 64).to_bytes(8, "big")),
        "maxFee policy missing": at(64, (w["mask"] & ~8).to_bytes(8, "big")),
        "script altered": _flip(raw, 96 + rng.randrange(24), rng.randrange(1, 256), ch, mi),
        "nonzero data padding": at(data_at + n_data, b"\x01"),
        "wrong selector": at(data_at + 120, b"W"),
        "selector pointer moved": at(data_at + 72, (192 + 40 * mi + 96).to_bytes(8, "big")),
        "args pointer moved": at(data_at + 80, (192 + 40 * mi + 88 + 8 + 33 + 8).to_bytes(8, "big")),
        "recipient high bytes": at(data_at + 8 + 32 + 32 + 24 + 33 + 32 + 4, b"\x01"),
        "zero recipient": at(data_at + 8 + 32 + 32 + 24 + 33 + 32 + 4 + 12, bytes(20)),
        "fee above amount": at(data_at, (w["fee"] - 1).to_bytes(8, "big")) if w["fee"] else at(
            data_at + n_data - 8, (w["gross"] + 1).to_bytes(8, "big")) if w["gross"] < 2**64 - 1 else at(0, b"\x01"),
        "nonempty witness": lambda: (raw[:-1] + b"\x01", ch, mi),
        "trailing byte": lambda: (raw + b"\x00", ch, mi),
        "truncated": lambda: (raw[:rng.randrange(len(raw))], ch, mi),
        "wrong maxInputs": lambda: (raw, ch, mi + 1 if mi < 65535 else mi - 1),
        "more inputs than maxInputs": lambda: (raw, ch, len(w["inputs"]) - 1) if len(w["inputs"]) > 1 else (
            raw[:72] + (70000).to_bytes(8, "big") + raw[80:], ch, mi),
        "coin output": lambda: _replace_first_output(raw, t, w, 0),
        "unknown output type": lambda: _replace_first_output(raw, t, w, 4),
        "registry not an input": lambda: _swap_registry(raw, t, w),
    }
    if w["mask"] >> 4 & 1:
        exp_at = 96 + 24 + 208 + 8 * bin(w["mask"] & 0b1111).count("1")
        out["expiration over u32"] = at(exp_at + 3, b"\x01")
    return out


def _flip(raw: bytes, at: int, mask: int, chain: int, max_inputs: int) -> Callable[[], Tuple[bytes, int, int]]:
    return lambda: (raw[:at] + bytes([raw[at] ^ mask]) + raw[at + 1:], chain, max_inputs)


def _first_output_offset(t: Tx, w: Dict[str, Any]) -> int:
    size = {"contract": 80, "change": 80, "variable": 80}
    return len(t.raw) - 8 - sum(size[o["kind"]] for o in w["outputs"])


def _replace_first_output(raw: bytes, t: Tx, w: Dict[str, Any], kind: int) -> Tuple[bytes, int, int]:
    if not w["outputs"]:
        return raw[:80] + (1).to_bytes(8, "big") + raw[88:-8] + kind.to_bytes(8, "big") + bytes(72) + raw[-8:], \
            w["chain"], w["max_inputs"]
    at = _first_output_offset(t, w)
    return raw[:at] + kind.to_bytes(8, "big") + raw[at + 8:], w["chain"], w["max_inputs"]


def _swap_registry(raw: bytes, t: Tx, w: Dict[str, Any]) -> Tuple[bytes, int, int]:
    other = bytes(b ^ 0xFF for b in w["registry"])
    return raw.replace(w["registry"], other, 1), w["chain"], w["max_inputs"]  # first occurrence: script data


def test_withdrawals_broken_rule_by_rule():
    rng = random.Random(SEED + 4)
    refused = 0
    for _ in range(60):
        w = gen_withdrawal(rng)
        t = encode_withdrawal(w, rng)
        for name, brk in sorted(_withdrawal_breaks(w, t, rng).items()):
            raw, chain, max_inputs = brk()
            with pytest.raises(ValidationError):
                parse_fuel_unsigned_transaction("0x" + raw.hex(), chain, max_inputs)
            refused += 1
    assert refused > 60 * 20


def test_withdrawal_constrained_byte_flips_never_escape():
    """A flip of a constrained byte is refused — or, when the reference would accept it (a count
    that still parses), it is reported consistently: never an exception other than ValidationError."""
    rng = random.Random(SEED + 5)
    for _ in range(40):
        w = gen_withdrawal(rng)
        t = encode_withdrawal(w, rng)
        constrained = [k for k, label in enumerate(t.labels) if label in (C, ZC)]
        for at in rng.sample(constrained, min(30, len(constrained))):
            m = bytearray(t.raw)
            m[at] ^= 1 << rng.randrange(8)
            try:
                got = parse_w(bytes(m), w)
            except ValidationError:
                continue
            # Only flips that keep every rule can pass: e.g. another valid contract-output index.
            assert got.asset_registry_contract_id == "0x" + w["registry"].hex()


# --- preparation proofs ------------------------------------------------------------------------

def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def gen_claims(rng: random.Random) -> Dict[str, Any]:
    signer = "0x" + rng.randbytes(rng.choice([20, 32])).hex()
    return {"version": 1, "keyId": rng.choice(["k", "fixture-key", "ключ", "a" * rng.randint(1, 60)]),
            "expiresAt": rng.choice([1, 2000000000, 2**53 - 1, rng.randint(1, 2**53 - 1)]), "signer": signer}


CLAIM_BREAKS: Dict[str, Callable[[Dict[str, Any]], Any]] = {
    "missing key": lambda c: {k: v for k, v in c.items() if k != "signer"},
    "extra key": lambda c: dict(c, extra=1), "version 2": lambda c: dict(c, version=2),
    "version text": lambda c: dict(c, version="1"), "version bool": lambda c: dict(c, version=True),
    "version float": lambda c: dict(c, version=1.0), "empty keyId": lambda c: dict(c, keyId=""),
    "keyId number": lambda c: dict(c, keyId=7), "expiresAt 0": lambda c: dict(c, expiresAt=0),
    "expiresAt negative": lambda c: dict(c, expiresAt=-5), "expiresAt 2^53": lambda c: dict(c, expiresAt=2**53),
    "expiresAt text": lambda c: dict(c, expiresAt="5"), "expiresAt float": lambda c: dict(c, expiresAt=1.5),
    "signer upper": lambda c: dict(c, signer=c["signer"].upper().replace("0X", "0x")) if any(
        ch in "abcdef" for ch in c["signer"][2:]) else dict(c, signer="0x" + "AB" * 20),
    "signer no 0x": lambda c: dict(c, signer=c["signer"][2:]),
    "signer 31 bytes": lambda c: dict(c, signer="0x" + "ab" * 31), "claims list": lambda c: [c],
    "signer null": lambda c: dict(c, signer=None),
}
ENCODING_BREAKS: Dict[str, Callable[[str, str], str]] = {
    "no dot": lambda a, b: a + b, "three parts": lambda a, b: f"{a}.{b}.{b}", "padding": lambda a, b: f"{a}.{b}=",
    "standard alphabet": lambda a, b: f"{a.replace('-', '+').replace('_', '/')}+.{b}",
    "noncanonical bits": lambda a, b: f"{a}.{b[:-1]}{'B' if b[-1] == 'A' else chr(ord(b[-1]) + 1) if b[-1] not in 'Z9_-' else 'A'}",
    "MAC 31 bytes": lambda a, b: f"{a}.{b64(base64.urlsafe_b64decode(b + '=')[:31])}",
    "MAC 33 bytes": lambda a, b: f"{a}.{b64(base64.urlsafe_b64decode(b + '=') + b'x')}",
    "empty claims": lambda a, b: f".{b}", "not JSON": lambda a, b: f"{b64(b'{oops')}.{b}",
    "not UTF-8": lambda a, b: f"{b64(bytes([0xff, 0xfe]) + base64.urlsafe_b64decode(a + '=' * (-len(a) % 4)))}.{b}",
    "impossible length": lambda a, b: f"{a}AAAAA.{b}" if len(a) % 4 == 0 else f"{a[:len(a) - len(a) % 4]}A.{b}",
    "over 2048": lambda a, b: f"{b64(json.dumps(dict(json.loads(base64.urlsafe_b64decode(a + '=' * (-len(a) % 4))), keyId='k' * 1600)).encode())}.{b}",
}


def test_proofs_generated_broken_and_flipped():
    rng = random.Random(SEED + 6)
    for _ in range(150):
        claims = gen_claims(rng)
        text = json.dumps(claims, ensure_ascii=rng.random() < 0.5, separators=rng.choice([(",", ":"), (", ", ": ")]))
        mac = rng.randbytes(32)
        a, b = b64(text.encode()), b64(mac)
        got = parse_preparation_proof(f"{a}.{b}")
        assert (got.version, got.key_id, got.expires_at, got.signer) == (1, claims["keyId"], claims["expiresAt"],
                                                                          claims["signer"])
        name, brk = rng.choice(sorted(CLAIM_BREAKS.items()))
        with pytest.raises(ValidationError):
            parse_preparation_proof(f"{b64(json.dumps(brk(claims)).encode())}.{b}")
        name, enc = rng.choice(sorted(ENCODING_BREAKS.items()))
        with pytest.raises(ValidationError):
            parse_preparation_proof(enc(a, b))
        proof = list(f"{a}.{b}")
        k = rng.randrange(len(proof))
        proof[k] = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ")
        flipped = "".join(proof)
        try:
            again = parse_preparation_proof(flipped)
        except ValidationError:
            continue
        c, m = flipped.split(".")
        assert b64(base64.urlsafe_b64decode(c + "=" * (-len(c) % 4))) == c and len(base64.urlsafe_b64decode(m + "=")) == 32
        assert again.version == 1 and again.expires_at > 0


def test_every_proof_rule_is_exercised():
    rng = random.Random(SEED + 7)
    claims = gen_claims(rng)
    a, b = b64(json.dumps(claims).encode()), b64(rng.randbytes(32))
    for brk in CLAIM_BREAKS.values():
        with pytest.raises(ValidationError):
            parse_preparation_proof(f"{b64(json.dumps(brk(claims)).encode())}.{b}")
    for enc in ENCODING_BREAKS.values():
        with pytest.raises(ValidationError):
            parse_preparation_proof(enc(a, b))
