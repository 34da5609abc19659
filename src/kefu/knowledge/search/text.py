"""Text preparation for Chinese FAQ search: one normal form for what agents and customers type, and the
tokens the BM25 index is built from.

Normal form (``normalise``): Unicode NFKC (full-width letters, digits and punctuation become
half-width), lower case, Traditional → Simplified with OpenCC (``t2s``) followed by a small banking
map (OpenCC writes 帐 where banks write 账), runs of punctuation and spaces become one space.

Tokens (``tokens``): for Chinese, character unigrams and bigrams (measured before the project on a
real bank question corpus: better than jieba or pkuseg words, and robust to words a dictionary does
not know), plus toneless pinyin bigrams so that a same-sound typo (挂室 for 挂失) still meets the
right entry; Latin words and numbers are kept whole (ATM, u盾 → "u" "盾" "u盾", lpr). Synonym groups
that editors maintain are applied before tokenising (``Synonyms.expand``): where a variant of a group
occurs, the group's canonical term is added beside it, in documents and queries alike (added, not
substituted: 冻结 is a synonym of 挂失 for a lost card but also means a court's freeze).

Hand-written on purpose: the libraries (OpenCC, pypinyin, bm25s) do the hard parts; what is here is
the glue and the few rules specific to how people ask a bank.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin

_T2S = opencc.OpenCC("t2s")

#: After OpenCC: characters and words banks write differently from the general converter.
BANKING_MAP: dict[str, str] = {
    "帐": "账",  # 帳戶 → 帐户 (OpenCC) → 账户
    "噹": "当",
    "於": "于",
    "甚么": "什么",
    "麽": "么",
    "咋": "怎么",
    "啥": "什么",
    # Taiwan and Hong Kong banking words (OpenCC's t2s converts script, not vocabulary)
    "行动银行": "手机银行",
    "网路银行": "网银",
    "网上银行": "网银",
    "网路": "网络",
    "简讯": "短信",
    "软体": "软件",
    "设定": "设置",
    "登入": "登录",
    "登陆": "登录",
    "金融卡": "借记卡",
    "提款卡": "借记卡",
    "信用咭": "信用卡",
    "户头": "账户",
    "数位": "数字",
    "信箱": "邮箱",
    "领钱": "取钱",
    "提款": "取款",
    "柜员机": "atm",
    "提款机": "atm",
    "自动取款机": "atm",
    "取款机": "atm",
}
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SPLIT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z]+|[0-9]+(?:\.[0-9]+)?")
_JUNK = re.compile(r"[^\w\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff.]+|_")

#: Function words and politeness that carry no meaning for matching (dropped as unigrams only; the
#: bigrams they form stay, so "怎么" in a question still matches a question that says "怎么").
STOP_CHARS = frozenset("的了吗呢啊吧呀嘛么我你您他她它们请问是在有就和与及或也都这那个一下想要能")
#: Whole phrases that only frame a question; removed from queries and documents before tokenising.
FRAMES = (
    "请问一下", "请问", "你好", "您好", "麻烦问一下", "麻烦问下", "想问一下", "想咨询一下", "咨询一下",
    "我想问", "想问下", "想了解一下", "了解一下", "帮我看看", "帮我查一下", "谢谢", "客户问", "客户咨询",
    "客户来电咨询", "客户来电", "怎么办呢", "该怎么办", "应该怎么办", "怎么办", "怎么处理", "如何处理",
    "应该怎么做", "怎么弄", "怎么搞", "怎样", "怎么", "如何",
)  # fmt: skip
_FRAMES_RE = re.compile("|".join(sorted(map(re.escape, FRAMES), key=len, reverse=True)))


def is_cjk(text: str) -> bool:
    return all(_CJK.match(ch) for ch in text)


def _map_banking(text: str) -> str:
    for src, dst in BANKING_MAP.items():
        if src in text:
            text = text.replace(src, dst)
    return text


@lru_cache(maxsize=50_000)
def normalise(text: str) -> str:
    """The normal form of a question or query (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _map_banking(_T2S.convert(text))
    text = _map_banking(text)  # the map is also written in lower case (u盾)
    return " ".join(_JUNK.sub(" ", text).split())


@lru_cache(maxsize=100_000)
def _pinyin(chars: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(chars, style=Style.NORMAL, errors="ignore"))


def strip_frames(text: str) -> str:
    """``text`` (normalised) without the phrases that only frame a question."""
    return _FRAMES_RE.sub(" ", text)


def tokens(text: str, *, pinyin: bool = True, unigrams: bool = True) -> list[str]:
    """Index/query tokens of normalised ``text``: CJK unigrams (minus stop characters) and bigrams,
    pinyin bigrams (``py:gua_shi``), Latin words and numbers whole."""
    out: list[str] = []
    for run in _SPLIT.findall(strip_frames(text)):
        if not _CJK.match(run):
            out.append(run)
            continue
        if unigrams or len(run) == 1:
            out.extend(ch for ch in run if ch not in STOP_CHARS)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
        if pinyin and len(run) > 1:
            syllables = _pinyin(run)
            if len(syllables) == len(run):
                out.extend(f"py:{syllables[i]}_{syllables[i + 1]}" for i in range(len(run) - 1))
    out.extend(_latin_cjk_pairs(text))
    return out


def _latin_cjk_pairs(text: str) -> list[str]:
    """Tokens for mixed words such as u盾 or etc卡: the Latin part glued to the next character."""
    return [m.group(0) for m in re.finditer(r"[a-z]+[\u4e00-\u9fff]", text)]


class Synonyms:
    """Editors' synonym groups: where a variant occurs, its canonical term is added (longest variant first)."""

    def __init__(self, groups: Iterable[tuple[str, Iterable[str]]] = ()) -> None:
        mapping: dict[str, str] = {}
        for canonical, variants in groups:
            canon = normalise(canonical)
            if not canon:
                continue
            for variant in variants:
                v = normalise(variant)
                if v and v != canon and v not in mapping:
                    mapping[v] = canon
        self.mapping = mapping
        self._re = (
            re.compile("|".join(re.escape(v) for v in sorted(mapping, key=len, reverse=True))) if mapping else None
        )

    def __len__(self) -> int:
        return len(self.mapping)

    def expand(self, normalised: str) -> str:
        if self._re is None:
            return normalised
        found = {self.mapping[m.group(0)] for m in self._re.finditer(normalised)}
        return " ".join([normalised, *sorted(found)]) if found else normalised


@lru_cache(maxsize=1)
def common_words(min_freq: int = 3) -> frozenset[str]:
    """Two-character words of jieba's general dictionary (Simplified) used at least ``min_freq`` times:
    a character that forms one of these with a neighbour is not a typo, even if the entries never use
    the word (海外, 长者, 财力 ...)."""
    import jieba

    words = set()
    with open(jieba.get_dict_file().name, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split(" ")
            if len(parts) >= 2 and len(parts[0]) == 2 and is_cjk(parts[0]) and int(parts[1]) >= min_freq:
                words.add(_T2S.convert(parts[0]))
    return frozenset(words)


class Speller:
    """Same-sound typo correction against the knowledge base's own vocabulary.

    Customers type with a pinyin input method, so a typo is usually a character of the same sound
    (挂室 for 挂失, 密马 for 密码, 基活 for 激活). A character is replaced by one of the same sound when
    that turns more of its two bigrams into bigrams the entries use (and none it breaks), unless it
    already forms a common word of the language with a neighbour (``common_words``)."""

    def __init__(self, texts: Iterable[str]) -> None:
        counts: Counter[str] = Counter()
        for text in texts:
            for run in _CJK_RUN.findall(text):
                counts.update(run[i : i + 2] for i in range(len(run) - 1))
        self._index(dict(counts))

    @classmethod
    def from_counts(cls, counts: dict[str, int]) -> Speller:
        """From bigram counts the caller already has (the search index's vocabulary)."""
        speller = cls.__new__(cls)
        speller._index(counts)
        return speller

    def _index(self, counts: dict[str, int]) -> None:
        self.known = counts
        self.words = common_words()
        chars: dict[str, set[str]] = {}
        for ch in {c for bigram in counts for c in bigram}:
            sound = _pinyin(ch)
            if len(sound) == 1:
                chars.setdefault(sound[0], set()).add(ch)
        self.same_sound = chars

    def _in_word(self, chars: list[str], j: int) -> bool:
        left = j > 0 and chars[j - 1] + chars[j] in self.words
        return left or (j + 1 < len(chars) and chars[j] + chars[j + 1] in self.words)

    def _gain(self, chars: list[str], j: int, ch: str) -> tuple[int, int]:
        known = freq = 0
        if j > 0:
            n = self.known.get(chars[j - 1] + ch, 0)
            known, freq = known + (n > 0), freq + n
        if j + 1 < len(chars):
            n = self.known.get(ch + chars[j + 1], 0)
            known, freq = known + (n > 0), freq + n
        return known, freq

    def correct(self, normalised: str) -> str:
        out = []
        for piece in re.split(f"({_CJK_RUN.pattern})", normalised):
            if len(piece) < 2 or not _CJK.match(piece):
                out.append(piece)
                continue
            chars = list(piece)
            for j, original in enumerate(chars):
                have, _ = self._gain(chars, j, original)
                sides = (j > 0) + (j + 1 < len(chars))
                if have >= sides or self._in_word(chars, j):
                    continue
                sound = _pinyin(original)
                if len(sound) != 1:
                    continue
                best, best_gain = original, (have, 0)
                for ch in self.same_sound.get(sound[0], ()):
                    gain = self._gain(chars, j, ch)
                    if gain > best_gain:
                        best, best_gain = ch, gain
                if best_gain[0] > have:
                    chars[j] = best
            out.append("".join(chars))
        return "".join(out)
