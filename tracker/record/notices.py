"""MOFCOM announcements: their numbers, what a designation does, and whom it names.

A notice is keyed on its number, never its URL: one announcement is published under several URL
layouts. Numbers: 商务部公告2025年第61号 (also joint ones, 商务部 海关总署公告2023年第23号) ->
``MOFCOM-2025-61``; 不可靠实体清单工作机制公告〔2025〕3号 -> ``UEL-2025-3``.

A designation's title says which list (不可靠实体清单, 出口管制管控名单, 关注名单) and what is
done (列入 lists; 移出 and 取消 remove; 暂停 and 停止 suspend; 恢复 restores; 调整 revises). Its
text, or its annex, names the foreign entities, one per numbered line, usually the Chinese name
with the English in brackets: "1. 示例航空系统公司（Example Aero Systems, Inc.）".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

MOFCOM_NUMBER = re.compile(
    r"商务部(?:\s*[\u4e00-\u9fff]{2,6}(?:总署|总局|部))*\s*公告\s*(\d{4})\s*年\s*第\s*(\d+)\s*号"
)
UEL_NUMBER = re.compile(
    r"不可靠实体清单工作机制公告\s*[〔\[［(（]\s*(\d{4})\s*[〕\]］)）]\s*(?:第\s*)?(\d+)\s*号"
)
LISTS = (
    ("不可靠实体清单", "CN-UEL"),
    ("出口管制管控名单", "CN-ECL"),
    ("管控名单", "CN-ECL"),
    ("关注名单", "CN-WATCH"),
)
ACTIONS = (
    ("移出", "removed"),
    ("取消", "removed"),
    ("暂停", "suspended"),
    ("停止", "suspended"),
    ("恢复", "restored"),
    ("调整", "revised"),
    ("列入", "added"),
)
ENTITY_LINE = re.compile(
    r"(?m)^\s*(?:\d{1,3}|[一二三四五六七八九十]+)\s*[.、．,，)）]\s*"
    r"(?P<zh>[^\n（(：:。；;]{2,60}?)\s*(?:[（(](?P<en>[A-Za-z][^）)\n]{1,150})[）)])?\s*[；;。，,]?\s*$"
)
UNTIL = re.compile(r"(?:至|到)\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")


@dataclass(frozen=True)
class NoticeNumber:
    key: str  # MOFCOM-2025-61, UEL-2025-3
    label: str  # the number as written: 商务部公告2025年第61号


@dataclass
class Notice:
    number: NoticeNumber
    list_code: str | None = None  # CN-UEL, CN-ECL, CN-WATCH; None: not a designation
    action: str | None = None
    entities: list[tuple[str, str]] = field(default_factory=list)  # (Chinese name, English)
    until: date | None = None  # a suspension's end
    targets: list[NoticeNumber] = field(default_factory=list)  # other notices it changes


def notice_number(text: str) -> NoticeNumber | None:
    """The first announcement number in a title or text."""
    found = [(m.start(), "MOFCOM", m) for m in [MOFCOM_NUMBER.search(text)] if m]
    found += [(m.start(), "UEL", m) for m in [UEL_NUMBER.search(text)] if m]
    if not found:
        return None
    _, kind, m = min(found, key=lambda f: f[0])
    year, n = m.group(1), int(m.group(2))
    label = (
        f"商务部公告{year}年第{n}号"
        if kind == "MOFCOM"
        else f"不可靠实体清单工作机制公告〔{year}〕{n}号"
    )
    return NoticeNumber(f"{kind}-{year}-{n}", label)


def all_numbers(text: str) -> list[NoticeNumber]:
    keys: dict[str, NoticeNumber] = {}
    for pattern in (MOFCOM_NUMBER, UEL_NUMBER):
        for m in pattern.finditer(text):
            found = notice_number(m.group(0))
            if found is not None:
                keys.setdefault(found.key, found)
    return list(keys.values())


def classify(title: str) -> tuple[str | None, str | None]:
    """(list, action) a title names; (None, None) for a notice that designates nothing."""
    code = next((c for word, c in LISTS if word in title), None)
    if code is None:
        return None, None
    action = next((a for word, a in ACTIONS if word in title), None)
    return code, action


def title_action(title: str) -> str | None:
    """What a title says is done (列入, 暂停, ...), list or not."""
    return next((a for word, a in ACTIONS if word in title), None)


def read_notice(number: NoticeNumber, title: str, text: str) -> Notice:
    """What a notice does, from its title and its text (annex included)."""
    code, action = classify(title)
    notice = Notice(number, code, action or title_action(title))
    if code is not None:
        seen = set()
        for m in ENTITY_LINE.finditer(text):
            zh = m.group("zh").strip(" 　")
            en = (m.group("en") or "").strip()
            if not re.search(r"[\u4e00-\u9fff]", zh) or zh in seen:
                continue
            seen.add(zh)
            notice.entities.append((zh, en))
    until = UNTIL.search(text)
    if until:
        try:
            notice.until = date(int(until.group(1)), int(until.group(2)), int(until.group(3)))
        except ValueError:
            notice.until = None
    notice.targets = [n for n in all_numbers(text) if n.key != number.key]
    return notice
