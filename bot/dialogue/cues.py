"""Linguistic cues of a turn's dialogue act: correction, cancel, question, ellipsis, language.

These are closed-class function words and sentence forms of Chinese and English (the
way people mark a correction or a follow-up), not topic phrases: the topic always comes
from the NLU ranking, the entities and the dialogue state.
"""
from __future__ import annotations

import re

# "不对/错了/说错了/改成X/是X不是Y/换成/应该是"; "no, I meant", "actually", "change it to"
_CORRECTION = re.compile(
    r"^(?:等等|等一下|哦|噢|啊|呃)?[，,\s]*(?:不对|不是|错了|搞错了|说错了|弄错了|打错了|写错了|改一下|改成|改为|换成|应该是|更正)"
    r"|[，,]\s*(?:哦|噢|啊|呃)?(?:不对|说错了|搞错了|弄错了)"
    r"|(?:改成|改为|换成|应该是|更正为)"
    r"|是.{1,12}不是.{1,12}"
    r"|^(?:no|nope|sorry)[,.!\s]+(?:i meant|it'?s|make it|change)|\b(?:i meant|actually it'?s|change (?:it|that) to|"
    r"make (?:it|that))\b",
    re.IGNORECASE)
# Bare "不对/错了" with nothing after: a correction whose new value is still to come.
_BARE_CORRECTION = re.compile(r"^(?:不对|不是|错了|说错了|搞错了|弄错了)+[呀啊吧哦嘛啦的]*[。！!，,\s]*$"
                              r"|^(?:no|wrong|that'?s wrong)[.!\s]*$", re.IGNORECASE)
# "算了/不办了/先不转了/还是不还了/取消/不用了"; "never mind", "cancel", "forget it"
_TASK_VERB = r"(?:办|挂失?|转|还|弄|要|换|约|预约|申请|查|买|取|冻结?|交|付)"
_CANCEL = re.compile(
    r"算了|取消|不用[^，,。]{0,3}了|先放着|放一放|等.{1,8}再(?:说|还|办|转|弄|来)|(?:先|还是|暂时)(?:不|别)[^，,。]{0,3}(?:了|$|[，,。])|不想[^，,。]{0,3}了|"
    rf"不{_TASK_VERB}了|别{_TASK_VERB}了|改天再|下次再|下周再说|回头再说|以后再说|再说吧|"
    r"\b(?:never ?mind|cancel|forget it|don'?t bother|not now|not yet|don'?t (?:\w+ )?(?:it|that) yet|leave it)\b",
    re.IGNORECASE)
# Question forms: interrogative particles and words, a question mark.
_QUESTION = re.compile(
    r"[?？]|吗|么[?？]?$|呢$|多少|多久|几[天个点时号岁年月]|怎么|怎样|如何|为什么|为啥|是否|能不能|可不可以|可以.{0,8}吗|会不会|"
    r"有没有|要不要|哪些|哪里|哪儿|什么|啥|是不是|行不行|"
    r"^(?:how|what|when|where|why|which|who|can|could|is|are|do|does|will|should|may)\b",
    re.IGNORECASE)
# Follow-ups that lean on the previous task: "那X呢", "X呢", "还有X", "那取十万", "what about X".
_ELLIPSIS = re.compile(r"^(?:那|那么|那如果|那要是|还有|另外|再)|呢[?？。]?$|^(?:and|what about|how about|and the)\b",
                       re.IGNORECASE)
# A new request after a cancel: "先不办了，帮我查下余额".
_GOODBYE = re.compile(r"拜拜|再见|回见|\bbye\b|goodbye", re.IGNORECASE)
_SWITCH_TAIL = re.compile(r"(?:算了|不办了|不弄了|不要了|不用了|先不.{0,2}了|还是不.{0,2}了|never ?mind|forget it)"
                         r"[，,。.!\s]*(.+)$", re.IGNORECASE)
# A yes that repeats the task ("确认冻结", "没错，挂失", "yes, confirm", "go ahead", "book it").
_AFFIRM = re.compile(r"^(?:确认|确定|没错|没问题|对的?|是的|好的?|可以|行|嗯|提交|就这样)"
                     r"|^(?:yes|yep|yeah|sure|ok(?:ay)?|confirm|go ahead|do it|book it|submit|that'?s right)\b",
                     re.IGNORECASE)
# Request forms: "帮我…", "我要…", "请…", "麻烦…", "can you…", "I want…".
# An imperative: a task verb first ("冻结2468这张", "Freeze the card…") — unless it is asked as a question.
_IMPERATIVE = re.compile(r"^(?:请|快|马上|赶紧|立刻)?(?:冻结|挂失|转账|转给|查一?下|还款|预约|申请|办理|取消|开通)"
                         r"|^(?:please\s+)?(?:freeze|block|cancel|transfer|send|pay|check|show|book|apply)\b",
                         re.IGNORECASE)
_REQUEST = re.compile(r"帮我|帮忙|给我|我要|我想|我需要|请帮|麻烦|替我|能帮|可以帮|"
                      r"\b(?:can|could|would) you\b|\bplease\b|\bi (?:want|need|would like|'d like)\b|\bhelp me\b",
                      re.IGNORECASE)
_LATIN = re.compile(r"[A-Za-z]")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def is_correction(text: str) -> bool:
    return bool(_CORRECTION.search(text.strip()))


def correction_position(text: str) -> int:
    """Where the correction cue ends: the new value comes after it ("广州，哦不对，深圳")."""
    match = _CORRECTION.search(text)
    return match.end() if match else 0


def is_bare_correction(text: str) -> bool:
    return bool(_BARE_CORRECTION.match(text.strip()))


def is_cancel(text: str) -> bool:
    return bool(_CANCEL.search(text.strip())) and not is_bare_correction(text)


def request_after_cancel(text: str) -> str:
    """The part of "先不办了，帮我查下余额" after the cancel; '' when there is none."""
    match = _SWITCH_TAIL.search(text.strip())
    return match.group(1).strip() if match else ""


def is_affirmation(text: str) -> bool:
    return bool(_AFFIRM.search(text.strip())) and not is_cancel(text) and not is_correction(text)


def says_goodbye(text: str) -> bool:
    return bool(_GOODBYE.search(text))


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text.strip()))


def is_request(text: str) -> bool:
    """Asks the bank to do something (as opposed to asking how something works)."""
    return bool(_REQUEST.search(text)) or (bool(_IMPERATIVE.search(text.strip())) and not is_question(text))


def is_ellipsis(text: str, max_chars: int = 16) -> bool:
    """A short turn that leans on what came before."""
    text = text.strip()
    return len(text) <= max_chars and bool(_ELLIPSIS.search(text))


# English function words and chat words: Latin letters without any of them ("qwerty asdf") are no language.
_ENGLISH_WORDS = frozenset(
    "a an the to of in on at for from with by and or but not no yes ok okay please thanks thank hi hello hey "
    "i me my you your we our it its is are was were be been am do does did can could will would should may "
    "how what when where why which who this that these those there here have has had want need like "
    "one any some all much many more about".split())


def han_count(text: str) -> int:
    """Chinese characters in `text`."""
    return len(_HAN.findall(text))


def latin_word_count(text: str) -> int:
    """Runs of Latin letters in `text` (English words, roughly)."""
    return len(re.findall(r"[A-Za-z]+", text))


def language_of(text: str) -> str | None:
    """'en' for a message written in English, 'zh' for Chinese, None when it cannot tell (digits, "ok",
    letters that are no English words)."""
    latin, han = len(_LATIN.findall(text)), han_count(text)
    words = [w.lower() for w in re.findall(r"[A-Za-z']+", text)]
    english = sum(w in _ENGLISH_WORDS for w in words)
    if han:  # "ok的", "我要transfer": Chinese with a Latin word in it
        return "en" if english >= 2 and latin > han * 1.5 else "zh"
    return "en" if english and (len(words) >= 2 or len(words[0]) >= 4) else None
