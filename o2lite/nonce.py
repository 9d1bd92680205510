"""Nonces: the :class:`Nonce` value every signed request carries, and for parallel nonces the
packed u256, the exchange's bitmap window and a thread-safe issuer.

A nonce is one thing: its kind and its value. A *sequential* nonce is the account's counter (a
u64, sent under the JSON key ``nonce``); a *parallel* nonce is a packed u256 (sent under
``parallel_nonce``). ``Nonce.sequential(7).field == "nonce"``; every signing method takes one
:class:`Nonce` (a plain ``int`` means a sequential nonce).

Bit layout of a parallel nonce (PROTOCOL §9), sent as a decimal string::

    bits   0–7    bitmap position      0–127
    bits   8–135  word position        u128
    bits 136–167  expiry               u32 Unix seconds
    bits 168–175  nonce session id     the "lane", 0–4
    bits 176–255  reserved             must be zero

Each lane has a window of 8 words × 128 bits; word ``w`` lives in slot ``w % 8`` and the active
words are ``[base, base + 8)``. A nonce is usable once: the exchange sets its bit.

>>> pack_parallel_nonce(0, 1, 0, 5)
87112285931760246646623899502532662132741
>>> unpack_parallel_nonce(87112285931760246646623899502532662132741)
ParallelNonce(nonce_session_id=0, expiry=1, word_position=0, bitmap_position=5)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Dict, Literal, NamedTuple, Optional, Tuple, Union

from ._hex import U256_MAX, to_int
from .errors import NonceWindowFull, ValidationError

__all__ = [
    "NonceKind",
    "NONCE_KINDS",
    "Nonce",
    "NonceLike",
    "check_kind",
    "LANES",
    "WINDOW_WORDS",
    "WORD_BITS",
    "DEFAULT_TTL",
    "ParallelNonce",
    "pack_parallel_nonce",
    "unpack_parallel_nonce",
    "NonceWindow",
    "IssuedNonce",
    "ParallelNonceIssuer",
]

LANES = 5  # nonce session ids 0..4
WINDOW_WORDS = 8  # words per lane window
WORD_BITS = 128  # bits per word
DEFAULT_TTL = 120  # seconds a parallel nonce stays valid (PROTOCOL §9: now + 120 s)

_U32_MAX = 2**32 - 1
_U128_MAX = 2**128 - 1
_RESERVED_SHIFT = 176

#: The two kinds of nonce (PROTOCOL §8, §9).
NonceKind = Literal["sequential", "parallel"]
NONCE_KINDS: Tuple[NonceKind, ...] = ("sequential", "parallel")
#: The JSON key each kind travels under in a signed body.
_FIELDS: Dict[str, str] = {"sequential": "nonce", "parallel": "parallel_nonce"}


def check_kind(kind: Any) -> NonceKind:
    """``"sequential"`` or ``"parallel"``, else :class:`ValidationError`."""
    if kind == "sequential":
        return "sequential"
    if kind == "parallel":
        return "parallel"
    raise ValidationError("nonce_kind must be 'sequential' or 'parallel'")


@dataclass(frozen=True)
class Nonce:
    """One nonce of a signed request: its ``kind`` and its ``value`` (range-checked).

    >>> Nonce.sequential(7)
    Nonce(kind='sequential', value=7)
    >>> Nonce.parallel(5).field, Nonce.parallel(5).json
    ('parallel_nonce', {'parallel_nonce': '5'})
    >>> Nonce.of(3) == Nonce.sequential(3)
    True
    """

    kind: NonceKind
    value: int

    def __post_init__(self) -> None:
        kind = check_kind(self.kind)
        high = U256_MAX if kind == "parallel" else None
        value = to_int(self.value, _FIELDS[kind]) if high is None else to_int(self.value, _FIELDS[kind], high=high)
        object.__setattr__(self, "value", value)

    @classmethod
    def sequential(cls, value: int) -> "Nonce":
        """The account's sequential nonce ``value`` (a u64)."""
        return cls("sequential", value)

    @classmethod
    def parallel(cls, value: int) -> "Nonce":
        """A packed parallel nonce (a u256, see :func:`pack_parallel_nonce`)."""
        return cls("parallel", value)

    @classmethod
    def of(cls, nonce: "NonceLike") -> "Nonce":
        """A :class:`Nonce` as is; anything else is a sequential nonce (the common case), read
        like every chain integer (an ``int``, or base-10/``0x`` text; never a float)."""
        if isinstance(nonce, Nonce):
            return nonce
        if nonce is None:
            raise ValidationError("a nonce is needed: Nonce.sequential(n), Nonce.parallel(n) or an integer")
        return cls.sequential(nonce)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Optional["Nonce"]:
        """The nonce a signed JSON body carries (``parallel_nonce`` or ``nonce``), or None."""
        for kind in ("parallel", "sequential"):
            if _FIELDS[kind] in body:
                try:
                    return cls(check_kind(kind), body[_FIELDS[kind]])
                except ValidationError:
                    return None
        return None

    @property
    def field(self) -> str:
        """The JSON key it travels under: ``"nonce"`` or ``"parallel_nonce"``."""
        return _FIELDS[self.kind]

    @property
    def json(self) -> Dict[str, str]:
        """``{field: "<decimal>"}``: how it appears in a signed body (PROTOCOL §2)."""
        return {self.field: str(self.value)}

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


#: What signing methods accept as a nonce: a :class:`Nonce`, or an ``int`` for a sequential one.
NonceLike = Union[Nonce, int]


class ParallelNonce(NamedTuple):
    """The four fields of a packed parallel nonce."""

    nonce_session_id: int
    expiry: int
    word_position: int
    bitmap_position: int


def pack_parallel_nonce(nonce_session_id: int, expiry: int, word_position: int, bitmap_position: int) -> int:
    """Pack the four fields into the u256 (layout in the module doc); every field range-checked."""
    lane = to_int(nonce_session_id, "nonce_session_id", high=LANES - 1)
    expiry = to_int(expiry, "expiry", high=_U32_MAX)
    word = to_int(word_position, "word_position", high=_U128_MAX)
    bit = to_int(bitmap_position, "bitmap_position", high=WORD_BITS - 1)
    return bit | (word << 8) | (expiry << 136) | (lane << 168)


def unpack_parallel_nonce(value: Union[int, str]) -> ParallelNonce:
    """Split a packed nonce; rejects reserved bits, a lane > 4 and a bitmap position > 127."""
    value = to_int(value, "parallel nonce", high=2**256 - 1)
    if value >> _RESERVED_SHIFT:
        raise ValidationError("parallel nonce has reserved bits set")
    lane = (value >> 168) & 0xFF
    bit = value & 0xFF
    if lane >= LANES:
        raise ValidationError(f"parallel nonce session id out of range: {lane}")
    if bit >= WORD_BITS:
        raise ValidationError(f"parallel nonce bitmap position out of range: {bit}")
    return ParallelNonce(lane, (value >> 136) & _U32_MAX, (value >> 8) & _U128_MAX, bit)


class NonceWindow(NamedTuple):
    """One lane's window as ``GET /v1/accounts/window`` reports it.

    ``bitmaps`` maps each *active* word position (``base ≤ w < base + 8``) to its bitmap;
    stale slots (holding a word outside the window) count as empty and are dropped.
    """

    nonce_session_id: int
    base: int
    bitmaps: Dict[int, int]

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "NonceWindow":
        """Parse ``{nonce_session_id, base, slots: [{word_position, bitmap}]}`` (strings or numbers)."""
        try:
            base = to_int(obj["base"], "base", high=_U128_MAX)
            lane = to_int(obj.get("nonce_session_id", 0), "nonce_session_id", high=LANES - 1)
            bitmaps: Dict[int, int] = {}
            for slot in obj.get("slots") or []:
                word = to_int(slot["word_position"], "word_position", high=_U128_MAX)
                if base <= word < base + WINDOW_WORDS:
                    bitmaps[word] = to_int(slot["bitmap"], "bitmap", high=2**WORD_BITS - 1)
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"malformed nonce window: missing {exc}") from None
        return cls(lane, base, bitmaps)

    def is_used(self, word_position: int, bitmap_position: int) -> bool:
        """True when that bit is set in the window (positions outside it count as unused)."""
        return bool(self.bitmaps.get(word_position, 0) >> bitmap_position & 1)

    def first_free(self) -> Tuple[int, int]:
        """``(word, bit)`` just after the highest consumed bit, scanning from the top word down.

        Holes below the highest used bit are skipped on purpose: a lower free bit may belong to
        a request still in flight. Raises :class:`NonceWindowFull` when the top word's last bit
        is used.
        """
        top = self.base + WINDOW_WORDS - 1
        for word in range(top, self.base - 1, -1):
            bitmap = self.bitmaps.get(word, 0)
            if bitmap:
                bit = bitmap.bit_length()  # one past the highest set bit
                if bit < WORD_BITS:
                    return word, bit
                if word == top:
                    raise NonceWindowFull(f"parallel nonce window of lane {self.nonce_session_id} is full")
                return word + 1, 0
        return self.base, 0


class IssuedNonce(NamedTuple):
    """A nonce handed out by :class:`ParallelNonceIssuer`: the packed ``value`` and the
    issuer ``generation`` it came from (pass it to :meth:`ParallelNonceIssuer.resync`)."""

    value: int
    generation: int
    word_position: int
    bitmap_position: int
    expiry: int


WindowSource = Union[NonceWindow, Mapping[str, Any], Callable[[], Any]]


class ParallelNonceIssuer:
    """Hands out unique parallel nonces of one lane, from many threads, with no I/O per nonce.

    The cursor only moves forward; a position is never handed out twice. When the lane's
    window is exhausted :meth:`issue` raises :class:`NonceWindowFull`: call :meth:`resync`
    with a fresh window. Resyncs are single-flight: pass the ``generation`` of the nonce that
    failed, and a resync another thread already made since is not repeated.

    Args:
        lane: nonce session id, 0–4.
        window: the lane's window (JSON or :class:`NonceWindow`); ``None`` means a fresh lane.
        ttl: seconds until each nonce expires (default 120).
        clock: returns Unix seconds; injectable for tests.
    """

    def __init__(self, lane: int = 0, window: Optional[WindowSource] = None, *, ttl: int = DEFAULT_TTL,
                 clock: Callable[[], float] = time.time) -> None:
        self.lane = to_int(lane, "lane", high=LANES - 1)
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._resync_lock = threading.Lock()
        self._generation = 0
        self._base = 0
        self._word = 0
        self._bit = 0
        self._held = (0, 0)  # just after the last position handed out for sending (not only shown)
        if window is not None:
            self._seat(self._window(window), keep_ahead=False)

    @property
    def generation(self) -> int:
        """How many times the issuer has been (re)seated from a window."""
        return self._generation

    def _window(self, source: WindowSource) -> NonceWindow:
        value: Any = source() if callable(source) and not isinstance(source, NonceWindow) else source
        window = value if isinstance(value, NonceWindow) else NonceWindow.from_json(value)
        if window.nonce_session_id != self.lane:
            raise ValidationError(f"window is for lane {window.nonce_session_id}, issuer is lane {self.lane}")
        return window

    def _seat(self, window: NonceWindow, keep_ahead: bool) -> None:
        word, bit = window.first_free()
        with self._lock:
            if keep_ahead and (self._word, self._bit) > (word, bit):
                if self._word < window.base + WINDOW_WORDS:
                    word, bit = self._word, self._bit  # positions already handed out stay handed out
                else:  # past the window for good unless positions only *shown* (dry runs) are given up
                    word, bit = max(self._held, (word, bit))
            self._base, self._word, self._bit = window.base, word, bit
            self._generation += 1

    def issue(self, *, shown_only: bool = False) -> IssuedNonce:
        """The next unused position, packed with expiry ``now + ttl``.

        ``shown_only``: for a request prepared but not sent (a dry run). It is never handed out
        again while the window has room; once positions that nothing used on chain fill the
        window (which then never slides), a resync gives them up rather than stop every real
        send — a dry-run request sent after that may be refused ("nonce already used")."""
        expiry = int(self._clock()) + self.ttl
        with self._lock:
            word, bit = self._word, self._bit
            if word >= self._base + WINDOW_WORDS:
                raise NonceWindowFull(f"parallel nonce window of lane {self.lane} is used up: resync")
            if bit == WORD_BITS - 1:
                self._word, self._bit = word + 1, 0
            else:
                self._bit = bit + 1
            if not shown_only:
                self._held = (self._word, self._bit)
            generation = self._generation
        value = bit | (word << 8) | (expiry << 136) | (self.lane << 168)
        return IssuedNonce(value, generation, word, bit, expiry)

    def next_nonce(self) -> int:
        """The packed value of :meth:`issue`."""
        return self.issue().value

    def resync(self, window: WindowSource, *, seen_generation: Optional[int] = None,
               allow_backwards: bool = False) -> bool:
        """Reseat the cursor from a window (JSON, :class:`NonceWindow` or a function fetching one).

        The cursor moves to the window's first free position, but never behind a position this
        issuer already handed out (those may still be in flight) unless ``allow_backwards``.
        Single-flight: with ``seen_generation``, nothing happens (and nothing is fetched) when
        another thread has reseated since that generation. Returns True when it reseated.
        """
        with self._resync_lock:
            if seen_generation is not None and seen_generation != self._generation:
                return False
            self._seat(self._window(window), keep_ahead=not allow_backwards)
            return True
