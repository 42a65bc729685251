"""Masking of personal data in logs, tickets, transcripts shown to agents and analytics.

The one place that knows what personal data looks like; every part of the assistant calls
:func:`mask_text` (or the log filter in :mod:`bot.logging_privacy`, which calls it).

Customers write numbers in every shape: full-width digits, spaces, dashes, dots, Chinese
punctuation, zero-width characters pasted from other apps. So the text is first normalised
character by character (keeping a map back to the original), personal data is found in the
normalised text, and only those spans of the ORIGINAL text are replaced — the rest of the
message stays exactly as written, so masked transcripts remain readable.

Masked: resident ID numbers (18 with check digit 0-9/X, old 15-digit), bank card and account
numbers (12–21 digits, any separators), mainland mobiles (+86 / 0086 / 86 prefixes, any
grouping), e-mail addresses, passport numbers (E/G/P… + 7–8 digits, EA1234567) and JWTs.
Left alone: amounts, dates, times, short numbers, a card's last four ("尾号6688"), IP
addresses, UUIDs and hashes, our own reference numbers and WeChat MsgIds.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional

# --- normalisation -------------------------------------------------------------------------------

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
_SPACES = frozenset("\u00a0\u3000\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                    "\u202f\u205f")
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\ufe58")
_DOTS = frozenset("\u00b7\u30fb\u2022\uff65")


def _normal_char(char: str) -> str:
    """One character in its plain ASCII form where one exists ('' for invisible ones)."""
    if char < "\u0080":
        return char
    if char in _ZERO_WIDTH:
        return ""
    if char in _SPACES:
        return " "
    if char in _DASHES:
        return "-"
    if char in _DOTS:
        return "."
    if "\uff01" <= char <= "\uff5e":  # full-width ASCII: ０-９, Ａ-Ｚ, ＠, ．, －, （ …
        return chr(ord(char) - 0xFEE0)
    digit = unicodedata.decimal(char, None)  # other scripts' decimal digits
    return str(digit) if digit is not None else char


def normalize(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the index it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        plain = _normal_char(char)
        if plain:
            chars.append(plain)
            origin.append(index)
    return "".join(chars), origin


# --- patterns on the normalised text ---------------------------------------------------------------

_SEP = r"[ \t\-._/,、，。()（）+]"  # what customers put between digit groups
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})\s?@\s?"
                    r"([A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}"
                    r"[A-Za-z0-9])?)*\.[A-Za-z]{2,24})(?![A-Za-z0-9-])")
# Left alone even though they contain long digit runs.
_PROTECTED = [
    re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
               r"(?![0-9A-Fa-f])"),                                            # UUIDs
    re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{32,}"
               r"(?![0-9A-Za-z])"),                                                 # hashes
    re.compile(r"(?<![0-9.])(?<![0-9][ \t_/,、。-])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
               r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?![0-9]|\.[0-9]|[ \t_/,、。-][0-9])"),  # IPv4
    re.compile(r"(?<![0-9A-Za-z])[A-Z]{2,4}20[0-9]{6}[0-9A-F]{6}(?![0-9A-Za-z])"),    # our reference numbers
    re.compile(r"(?i)(?:msg_?id|message_?id)[\"'>:=\s]{0,4}[0-9]{8,20}(?![0-9])"),     # WeChat MsgIds
]
_CHUNK = re.compile(rf"[0-9]+(?:{_SEP}{{1,3}}[0-9]+)*(?:{_SEP}?[Xx](?![A-Za-z]))?")
_GROUP = re.compile(r"[0-9]+")
_PASSPORT_PREFIX = re.compile(r"(?:([A-Za-z]{1,2})|(?<![A-Za-z0-9])([A-Z]{1,2})[ -])$")
_MOBILE = re.compile(r"(0086|86)?(1[3-9][0-9])[0-9]{4}([0-9]{4})")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_digit(first17: str) -> str:
    """GB 11643 check character of an 18-character resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS))
    return "10X98765432"[total % 11]


# --- masks (what stays visible) ----------------------------------------------------------------------

def mask_card(number: str) -> str:
    """A card or account number as its last four: '**** 6688'."""
    digits = re.sub(r"\D", "", number)
    return f"**** {digits[-4:]}" if len(digits) >= 4 else "****"


def _mask_id(chars: str) -> str:
    return f"{chars[:3]}{'*' * (len(chars) - 7)}{chars[-4:]}"


def _mask_mobile(digits: str) -> str:
    match = _MOBILE.fullmatch(digits)
    assert match is not None
    return f"{'+86 ' if match.group(1) else ''}{match.group(2)}****{match.group(3)}"


# --- finding the spans -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Span:
    start: int  # in the normalised text
    end: int
    replacement: Optional[str]  # None: protected, left as written


@dataclass(frozen=True)
class _Group:
    digits: str
    start: int
    end: int


def _plausible_birth(yymmdd: str) -> bool:
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    return 1 <= month <= 12 and 1 <= day <= 31


def _is_date(groups: list[_Group], seps: list[str]) -> bool:
    if len(groups) != 3 or seps[0] != seps[1] or seps[0] not in ("-", ".", "/"):
        return False
    year, month, day = (g.digits for g in groups)
    return (len(year) == 4 and year[:2] in ("19", "20") and len(month) <= 2 and len(day) <= 2
            and 1 <= int(month) <= 12 and 1 <= int(day) <= 31)


def _is_amount(groups: list[_Group], seps: list[str]) -> bool:
    """1,234,567.89 or 1234.5 (at most ten digits before the point: no retail amount has more)."""
    if len(groups) < 2:
        return False
    whole = groups
    if seps[-1] == "." and len(groups[-1].digits) <= 2:
        whole = groups[:-1]
        if len(whole) == 1:
            return len(whole[0].digits) <= 10
    inner = seps[:len(whole) - 1]
    return (sum(len(g.digits) for g in whole) <= 10 and all(s == "," for s in inner)
            and 1 <= len(whole[0].digits) <= 3 and all(len(g.digits) == 3 for g in whole[1:]))


def _decimal_kind(groups: list[_Group], seps: list[str]) -> Optional[str]:
    """'score' for 0.8123-like values (listed in logs: "[0.81, 0.77]"), 'decimal' for other
    measurements (12.345 s, an epoch time 1733130000.123), None otherwise."""
    if len(groups) != 2 or seps[0] != ".":
        return None
    whole, fraction = groups[0].digits, groups[1].digits
    if len(fraction) > 9:
        return None
    if len(whole) == 1:
        return "score"
    if len(whole) <= 3 or (len(whole) == 10 and whole[0] == "1" and len(fraction) <= 7):
        return "decimal"
    return None


def _classify(groups: list[_Group], seps: list[str], i: int, j: int, digits: str, has_x: bool,
              letters: str) -> list[tuple[str, int, Optional[str]]]:
    """Readings of groups[i..j] (their digits: ``digits``): (kind, digits explained, mask or None)."""
    n = len(digits)
    readings: list[tuple[str, int, Optional[str]]] = []
    if letters and 7 <= n <= 8:
        readings.append(("passport", n, f"{letters}{'*' * (n - 3)}{digits[-3:]}"))
    if n == 17 and has_x:
        readings.append(("id", 18, _mask_id(digits + "X")))
    if n == 18 and (id_check_digit(digits[:17]) == digits[17]
                    or (digits[6:8] in ("18", "19", "20") and _plausible_birth(digits[8:14]))):
        readings.append(("id", n, _mask_id(digits)))
    if n == 15 and digits[0] in "12345678" and _plausible_birth(digits[6:12]):
        readings.append(("id", n, _mask_id(digits)))
    if n in (11, 13, 15) and _MOBILE.fullmatch(digits):
        readings.append(("mobile", n, _mask_mobile(digits)))
    if 12 <= n <= 21:
        readings.append(("number", n, mask_card(digits)))
    if i == j and n > 21:
        readings.append(("number", n, "****"))
    if 2 <= j - i + 1 <= 5 and n <= 17:
        parts, between = groups[i:j + 1], seps[i:j]
        if _is_date(parts, between):
            readings.append(("date", n, None))
        kind = _decimal_kind(parts, between)
        if kind:
            readings.append((kind, n, None))
        elif _is_amount(parts, between):
            readings.append(("amount", n, None))
    return readings


_MAX_GROUPS = 80


def _may_touch(kind: str, following: str, sep: str) -> bool:
    """Whether two readings may sit side by side in one run of digit groups (``sep`` between).

    A harmless reading right next to a long number is more likely a piece of that number, so such
    a split is refused rather than leaving part of an account number visible; amounts and
    measurements stand alone; dates may form ranges and sit next to a mobile or an ID; scores may
    form comma-separated lists."""
    if following in ("", "other") or kind == "other":
        return True
    pair = {kind, following}
    if pair & {"amount", "decimal"}:
        return False
    if "score" in pair:
        return pair == {"score"} and ("," in sep or ";" in sep)
    return not ("date" in pair and "number" in pair)


@dataclass(frozen=True)
class _Plan:
    """The best reading of groups[i:]: score = (digits explained, -digits read as 'some number',
    -pieces), the spans, and the kind of its first piece."""

    score: tuple[int, int, int]
    spans: tuple[_Span, ...]
    first: str


def _chunk_spans(text: str, chunk: re.Match) -> list[_Span]:
    """Best reading of a run of digit groups: as many digits explained as possible, preferring
    specific readings (ID, mobile, date…) over 'some long number', then fewer pieces."""
    body = chunk.group(0)
    has_x = body[-1] in "Xx"
    offset = chunk.start()
    groups = [_Group(m.group(0), offset + m.start(), offset + m.end()) for m in _GROUP.finditer(body)]
    seps = [text[a.end:b.start].strip() or " " for a, b in zip(groups, groups[1:])]
    prefix = _PASSPORT_PREFIX.search(text[max(0, chunk.start() - 4):chunk.start()])
    letters = (prefix.group(1) or prefix.group(2)) if prefix else ""
    count = len(groups)
    if count > _MAX_GROUPS:  # no sentence holds this many numbers in one run: hide it all, cheaply
        return [_Span(chunk.start(), chunk.end(), "****")]
    best = [_Plan((0, 0, 0), (), "")] * (count + 1)
    for i in range(count - 1, -1, -1):
        rest = best[i + 1]
        choice = _Plan((rest.score[0], rest.score[1], rest.score[2] - 1), rest.spans, "other")
        run = ""
        for j in range(i, count):
            run += groups[j].digits
            if len(run) > 25 and j > i:
                break
            at_end = j == count - 1
            rest = best[j + 1]
            sep = seps[j] if j < count - 1 else ""
            for kind, explained, mask in _classify(groups, seps, i, j, run, has_x and at_end,
                                                   letters if i == 0 else ""):
                if not _may_touch(kind, rest.first, sep):
                    continue
                score = (rest.score[0] + explained, rest.score[1] - (explained if kind == "number" else 0),
                         rest.score[2] - 1)
                if score <= choice.score:
                    continue
                start, end = groups[i].start, groups[j].end
                if kind == "passport":
                    start -= len(letters) + (1 if prefix and prefix.group(2) else 0)
                if kind == "id" and explained == 18 and len(run) == 17:
                    end = chunk.end()  # the check character X
                if kind == "mobile" and len(run) > 11:  # +86 / (+86) / （+86）
                    while start > 0 and text[start - 1] in "+(（":
                        start -= 1
                choice = _Plan(score, (_Span(start, end, mask), *rest.spans), kind)
        best[i] = choice
    return [span for span in best[0].spans if span.replacement is not None]


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def find_spans(normal: str) -> list[_Span]:
    """Non-overlapping spans of the normalised text to replace (or to leave alone)."""
    spans: list[_Span] = [_Span(m.start(), m.end(), "[token]") for m in _JWT.finditer(normal)]
    taken = [(s.start, s.end) for s in spans]
    for match in _EMAIL.finditer(normal):
        if not _overlaps(match.span(), taken):
            spans.append(_Span(match.start(), match.end(), f"{match.group(1)[0]}***@{match.group(2)}"))
            taken.append(match.span())
    for pattern in _PROTECTED:
        for match in pattern.finditer(normal):
            if not _overlaps(match.span(), taken):
                taken.append(match.span())
    scan = list(normal)  # what is already taken cannot join a run of digit groups
    for start, end in taken:
        scan[start:end] = "\0" * (end - start)
    blanked = "".join(scan)
    for chunk in _CHUNK.finditer(blanked):
        spans.extend(_chunk_spans(blanked, chunk))
    return sorted(spans, key=lambda s: s.start)


_QUICK = re.compile(r"\d|[@＠]|eyJ")


def mask_text(text: str) -> str:
    """``text`` with every piece of personal data (and any JWT) masked; the rest as written."""
    if not text or not _QUICK.search(text):
        return text
    normal, origin = normalize(text)
    out: list[str] = []
    position = 0
    for span in find_spans(normal):
        start, end = origin[span.start], origin[span.end - 1] + 1
        out.append(text[position:start])
        out.append(span.replacement or text[start:end])
        position = end
    out.append(text[position:])
    return "".join(out)
