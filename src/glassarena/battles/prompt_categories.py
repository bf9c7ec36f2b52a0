"""Prompt categories: which of LMArena's prompt categories a battle's prompt falls in.

A rule-based classifier, pure and offline: keyword and shape rules in several languages, and
py3langid (its model ships in the wheel) for the language. Its result is a `category_tag` in
LMArena's layout (`criteria_v0.1`, `if_v0.1`, `math_v0.1`, `creative_writing_v0.1`) plus a
flat `categories` group with glassarena's board names, so `battles/categories.py` (and
`glassarena rank --category`) read it like any LMArena battle file. The classifier's version
travels in the tag: a board can tell which rules tagged which battle.

"Hard prompts" follow LMArena: a prompt is hard when it meets at least 6 of the 7 criteria.
Agreement with hand labels is measured in tests/battles/test_prompt_categories.py and
documented in docs/categories.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from glassarena.battles.style import count_tokens
from glassarena.vocabulary import PromptCategory

RULES_VERSION = "rules-1"

CODING = PromptCategory.CODING
MATH = PromptCategory.MATH
CREATIVE_WRITING = PromptCategory.CREATIVE_WRITING
INSTRUCTION_FOLLOWING = PromptCategory.INSTRUCTION_FOLLOWING
HARD_PROMPTS = PromptCategory.HARD_PROMPTS
MULTI_TURN = PromptCategory.MULTI_TURN
LONGER_QUERY = PromptCategory.LONGER_QUERY
PROMPT_CATEGORIES: tuple[str, ...] = tuple(PromptCategory)

# LMArena's seven hard-prompt criteria, as named in its `criteria_v0.1` tag.
CRITERIA: tuple[str, ...] = (
    "specificity",
    "domain_knowledge",
    "complexity",
    "problem_solving",
    "creativity",
    "technical_accuracy",
    "real_world",
)
HARD_THRESHOLD = 6  # criteria met (of 7) for a hard prompt, as LMArena's "hard_6"
LONG_QUERY_TOKENS = 500  # LMArena's "longer query": a user prompt over 500 tokens
LANGUAGE_PREFIX = "language_"  # flat flag per language: language_en, language_de, ...
# The languages the identifier chooses from: a closed set makes short prompts far more
# reliable than langid's 97 languages (a 5-word English prompt is not "Latin").
LANGUAGES = (
    *("en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "pl", "cs", "ru", "uk", "tr"),
    *("ar", "he", "fa", "hi", "bn", "ja", "ko", "zh", "vi", "id", "th", "el", "fi", "hu", "ro"),
)


@dataclass(frozen=True, slots=True)
class PromptCategories:
    language: str  # ISO 639-1 code, or "unknown"
    coding: bool
    math: bool
    creative_writing: bool
    instruction_following: bool
    longer_query: bool
    multi_turn: bool
    criteria: frozenset[str]  # the hard-prompt criteria the prompt meets
    classifier: str = RULES_VERSION

    @property
    def hard_prompts(self) -> bool:
        return len(self.criteria) >= HARD_THRESHOLD

    def names(self) -> set[str]:
        """The board names this prompt counts in (without its language flag)."""
        flags = {
            CODING: self.coding,
            MATH: self.math,
            CREATIVE_WRITING: self.creative_writing,
            INSTRUCTION_FOLLOWING: self.instruction_following,
            HARD_PROMPTS: self.hard_prompts,
            MULTI_TURN: self.multi_turn,
            LONGER_QUERY: self.longer_query,
        }
        return {name for name, on in flags.items() if on}

    def category_tag(self) -> dict[str, Any]:
        """LMArena's `category_tag` layout, plus the flat `categories` group and version."""
        flat: dict[str, bool] = {name: name in self.names() for name in PROMPT_CATEGORIES}
        flat[LANGUAGE_PREFIX + self.language] = True
        return {
            "classifier": self.classifier,
            "language": self.language,
            "categories": flat,
            "criteria_v0.1": {name: name in self.criteria for name in CRITERIA},
            "if_v0.1": {"if": self.instruction_following},
            "math_v0.1": {"math": self.math},
            "creative_writing_v0.1": {"creative_writing": self.creative_writing},
        }


# What the arena calls to tag a new battle's prompt: the prompt in, a `category_tag` out.
PromptClassifier = Callable[[str], dict[str, Any]]


def rule_based_tag(prompt: str) -> dict[str, Any]:
    """The default PromptClassifier: this module's rules."""
    return classify_prompt(prompt).category_tag()


def with_multi_turn(tag: Mapping[str, Any]) -> dict[str, Any]:
    """`tag` once the battle has a follow-up turn (the rest stays as first classified)."""
    flat = {**tag.get("categories", {}), MULTI_TURN: True}
    return {**tag, "categories": flat}


def _words(*words: str) -> re.Pattern[str]:
    # Word starts, not whole words: "integr" catches integral/Integral/intégrale.
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + ")", re.IGNORECASE)


def _phrases(*phrases: str) -> re.Pattern[str]:
    """Phrases matched anywhere (CJK scripts have no word boundaries)."""
    return re.compile("|".join(phrases), re.IGNORECASE)


_CODE_SHAPE = re.compile(
    r"```|\bdef \w+\(|\bfunction\s*\w*\(|=>|\bimport \w+|#include|\bSELECT\b.+\bFROM\b|</\w+>"
    r"|\b[a-z_][\w.]*\([\w, .'\"]*\)|\{\s*$|;\s*$|Traceback|\bnpm\b|\bpip install\b"
    r"|\w+\.(py|js|ts|rs|go|java|cpp)\b",
    re.MULTILINE | re.DOTALL,
)
_CODE_WORDS = _words(
    r"python", r"javascript", r"typescript", r"java\b", r"c\+\+", r"c#", r"rust\b", r"golang",
    r"sql\b", r"regex", r"regular expression", r"bash\b", r"shell script", r"html\b", r"css\b",
    r"react\b", r"django", r"flask", r"fastapi", r"docker", r"kubernetes", r"git\b", r"api\b",
    r"json\b", r"yaml\b", r"code\b", r"coding", r"programming", r"programmer", r"script\b",
    r"function",
    r"compil", r"debug", r"bug\b", r"stack trace", r"exception", r"algorithm", r"refactor",
    r"unit test", r"endpoint", r"database", r"query\b", r"linked list", r"recursion",
    r"Funktion(en)?\b", r"fonction", r"función", r"funzione", r"função", r"código", r"codice",
    r"Programmier", r"функци", r"код\b", r"программ", r"скрипт",
)  # fmt: skip
_CODE_CJK = _phrases(
    r"代码", r"函数", r"编程", r"程序", r"コード", r"関数", r"プログラム", r"코드", r"함수"
)

_MATH_SHAPE = re.compile(
    # Not "-" or "/" between digits (dates, year ranges) nor a bare "50%" (statistics in prose).
    r"\d\s*[+*^×÷=]\s*\d|\d+\s*%\s*(of|de|von|di)\b|\d+\s*(times|mal|fois|veces|vezes|volte)\s*\d"
    r"|[∫∑√π≤≥≠]|\\frac|\bx\^?\d|\b[xyn]\s*[=<>]|f\(x\)|\d+!",
)
_MATH_WORDS = _words(
    r"math", r"solve", r"equation", r"integr", r"derivative", r"differentiat", r"calculus",
    r"probability", r"prove\b", r"proof", r"theorem", r"lemma", r"calculat", r"comput(e|ing) the",
    r"algebra", r"geometr", r"triangle", r"circle", r"polynomial", r"matri(x|ces)", r"eigen",
    r"vector", r"prime", r"factorial", r"logarithm", r"sum of", r"average of",
    r"percent", r"ratio", r"fraction", r"variance", r"expected value", r"how many ways",
    r"Gleichung", r"berechne", r"Wahrscheinlichkeit", r"beweise", r"équation", r"calcule",
    r"probabilit", r"démontre", r"ecuación", r"resuelve", r"calcula", r"equazione",
    r"уравнени", r"вычисл", r"реши", r"докаж", r"вероятност", r"интеграл", r"производн",
)  # fmt: skip
_MATH_CJK = _phrases(
    r"方程", r"计算", r"证明", r"概率", r"积分", r"導関数", r"計算", r"方程式", r"확률", r"계산"
)

_CREATIVE_WORDS = _words(
    r"poem", r"poetry", r"haiku", r"sonnet", r"limerick", r"lyrics", r"song\b", r"rap\b",
    r"story", r"stories", r"short story", r"fiction", r"fairy tale", r"fable", r"novel\b",
    r"screenplay", r"script for a", r"scene\b", r"dialogue between", r"monologue",
    r"character", r"plot\b", r"verse", r"rhym", r"bedtime", r"imagine", r"fantasy",
    r"Gedicht", r"Geschichte", r"Märchen", r"Reim", r"poème", r"histoire", r"conte\b",
    r"chanson", r"poema", r"cuento", r"historia", r"poesia", r"storia", r"racconto",
    r"poesía", r"canción", r"стих", r"рассказ", r"сказк", r"истори", r"песн",
)  # fmt: skip
_CREATIVE_CJK = _phrases(
    r"诗", r"故事", r"小说", r"歌词", r"物語", r"俳句", r"詩", r"小説", r"시를", r"이야기", r"소설"
)
_WRITE_VERBS = _words(
    r"write", r"compose", r"schreib", r"écri", r"escrib", r"scriv", r"напиш", r"сочин"
)
_NOT_CREATIVE = _words(r"user stor", r"story points", r"history of", r"test scene")

_INSTRUCTION_WORDS = _words(
    r"in \d+ words", r"in (exactly|at most|at least|under|fewer than|no more than|less than)",
    r"exactly \d+", r"at most", r"at least \d+", r"no more than", r"\d+ (words|sentences|"
    r"bullet|bullets|points|paragraphs|lines|items|tips|ideas|examples)", r"bullet",
    r"numbered list", r"as a (table|list|json|bulleted)", r"in a table", r"table with",
    r"format(ted)? (as|it|the)", r"in json", r"json (object|format)", r"markdown",
    r"do not (use|mention|include)", r"don't (use|mention|include)", r"without (using|mentioning)",
    r"only (answer|respond|reply|output|return|use)", r"respond only", r"answer only",
    r"all caps", r"uppercase", r"lowercase", r"start (each|every|with)", r"end (each|with)",
    r"begin with", r"one sentence", r"single sentence", r"one word", r"one paragraph",
    r"(one|two|three|four|five|\d+) (sentences|words|paragraphs|lines|bullet)", r"tone\b",
    r"in the style of", r"title", r"in bold", r"alphabetical", r"under \d+ characters",
    r"columns?\b", r"(Sätzen|phrases|frases|frasi)\b", r"Stichpunkt", r"liste à puces",
    r"lista numerada", r"ordem alfabética", r"orden alfabético", r"una sola frase",
    r"in \d+ (Wörtern|Sätzen|mots|phrases|palabras|frases|parole)", r"genau \d+",
    r"\d+ Stichpunkte", r"ohne\b", r"sans utiliser", r"sin usar", r"en \d+ (mots|palabras)",
    r"максимум", r"не более", r"ровно \d+", r"в \d+ (слов|предложени)",
)  # fmt: skip
_INSTRUCTION_CJK = _phrases(
    r"\d+字", r"不超过", r"用表格", r"列出\d+", r"以JSON", r"\d+つ", r"\d+文字"
)

_DOMAIN_WORDS = _words(
    r"algorithm", r"complexity", r"asymptotic", r"kubernetes", r"latency", r"concurren",
    r"thread", r"database", r"index", r"transaction", r"microservice", r"compiler", r"kernel",
    r"protocol", r"encryption", r"tls\b", r"oauth", r"neural", r"gradient", r"transformer",
    r"regression", r"bayes", r"statistic", r"theorem", r"eigen", r"integr", r"differential",
    r"quantum", r"thermodynamic", r"entropy", r"enzyme", r"protein", r"genom", r"clinical",
    r"diagnos", r"dosage", r"pharmac", r"statute", r"contract law", r"liabilit", r"tax\b",
    r"gdpr", r"amortiz", r"portfolio", r"derivative", r"inflation", r"monetary", r"tariff",
    r"supply chain", r"photosynth", r"mitochond", r"circuit", r"voltage", r"torque",
    r"semiconductor", r"sql\b", r"api\b", r"regex", r"big-o", r"o\(n", r"recursion",
    r"async", r"mutex", r"cache", r"memory leak", r"garbage collect", r"latex", r"fourier",
    r"probability", r"distribution", r"hypothesis", r"p-value", r"matri(x|ces)",
)  # fmt: skip
_PROBLEM_WORDS = _words(
    r"solve", r"fix", r"debug", r"why (does|is|do|am|doesn)", r"how (do|can|should|would) (i|we)",
    r"optimi[sz]e", r"improve", r"design", r"propos", r"propon", r"предлож", r"entwirf",
    r"implement", r"calculat", r"compute", r"find",
    r"prove", r"figure out", r"troubleshoot", r"diagnos", r"plan\b", r"strateg", r"decide",
    r"compare", r"trade-?offs?", r"best way", r"approach", r"resolve", r"error",
    r"löse", r"warum", r"wie kann", r"résou", r"pourquoi", r"comment (puis|faire)",
    r"resuelve", r"por qué", r"cómo", r"почему", r"как (мне|исправ|сдела)", r"реши",
)  # fmt: skip
_PROBLEM_CJK = _phrases(
    r"为什么", r"如何", r"怎么", r"解决", r"设计", r"方案", r"なぜ", r"どうすれば", r"어떻게"
)
_CREATIVITY_WORDS = _words(
    r"creative", r"original", r"novel\b", r"invent", r"brainstorm", r"come up with", r"ideas?\b",
    r"design", r"imagine", r"unique", r"clever", r"catchy", r"slogan", r"name for",
    r"alternative", r"propos", r"new way", r"strateg", r"framework", r"plan\b", r"stratég",
    r"estrateg", r"предлож", r"план\b",
)  # fmt: skip
_REAL_WORLD_WORDS = _words(
    r"my\b", r"our\b", r"i'm\b", r"i am\b", r"we're\b", r"we are\b", r"i have\b", r"we have\b",
    r"company", r"team", r"client", r"customer", r"business", r"startup", r"production",
    r"deploy", r"project", r"boss", r"manager", r"budget", r"job\b", r"landlord", r"doctor",
    r"meine?\b", r"unser", r"mon\b", r"ma\b", r"mes\b", r"notre", r"mi\b", r"nuestr",
    r"мой", r"моя", r"мне\b", r"наш", r"у меня",
)  # fmt: skip
_REAL_WORLD_CJK = _phrases(r"我的", r"我们", r"公司", r"私の", r"会社", r"우리", r"제")
_CONSTRAINT_MARKERS = re.compile(r"\d|\"[^\"]+\"|'[^']+'|«[^»]+»|“[^”]+”|`[^`]+`")


def classify_prompt(prompt: str, *, multi_turn: bool = False) -> PromptCategories:
    """The categories of `prompt` (the battle's first turn), by the rules of RULES_VERSION."""
    coding = _matches(prompt, _CODE_WORDS, _CODE_CJK) or bool(_CODE_SHAPE.search(prompt))
    math = _matches(prompt, _MATH_WORDS, _MATH_CJK) or bool(_MATH_SHAPE.search(prompt))
    creative = (
        _matches(prompt, _CREATIVE_WORDS, _CREATIVE_CJK) and not _NOT_CREATIVE.search(prompt)
    ) and (bool(_WRITE_VERBS.search(prompt)) or bool(_CREATIVE_CJK.search(prompt)))
    instruction = _matches(prompt, _INSTRUCTION_WORDS, _INSTRUCTION_CJK)
    return PromptCategories(
        language=identify_language(prompt),
        coding=coding,
        math=math,
        creative_writing=creative,
        instruction_following=instruction,
        longer_query=count_tokens(prompt) > LONG_QUERY_TOKENS,
        multi_turn=multi_turn,
        criteria=_criteria(prompt, coding=coding, math=math, instruction=instruction),
    )


def _criteria(prompt: str, *, coding: bool, math: bool, instruction: bool) -> frozenset[str]:
    words = len(prompt.split()) + 2 * sum(1 for char in prompt if "\u3040" <= char <= "\u9fff")
    sentences = len(re.findall(r"[.?!。？！\n]+", prompt.strip())) or 1
    domain = bool(_DOMAIN_WORDS.search(prompt)) or coding or math
    met = {
        "specificity": words >= 25 and (instruction or bool(_CONSTRAINT_MARKERS.search(prompt))),
        "domain_knowledge": domain,
        "complexity": words >= 40 and (sentences >= 2 or prompt.count(",") >= 3),
        "problem_solving": _matches(prompt, _PROBLEM_WORDS, _PROBLEM_CJK) or math,
        "creativity": bool(_CREATIVITY_WORDS.search(prompt)),
        "technical_accuracy": coding or math or (domain and words >= 25),
        "real_world": _matches(prompt, _REAL_WORLD_WORDS, _REAL_WORLD_CJK),
    }
    return frozenset(name for name, on in met.items() if on)


def _matches(prompt: str, words: re.Pattern[str], cjk: re.Pattern[str]) -> bool:
    return bool(words.search(prompt) or cjk.search(prompt))


def identify_language(prompt: str) -> str:
    """ISO 639-1 code of the prompt's language, or "unknown" for text with no letters."""
    # Code blocks say little about the asker's language and mislead the identifier.
    text = re.sub(r"```.*?(```|$)", " ", prompt, flags=re.DOTALL)
    # Digits and symbols neither: "Solve 3x + 5 = 20" is English by its one word.
    text = re.sub(r"[^\w\s]|\d", " ", text)
    if not any(char.isalpha() for char in text):
        return "unknown"
    language, _score = _identifier().classify(text)
    return str(language)


@cache
def _identifier() -> Any:
    # A private identifier (not py3langid's module-level one): restricting its languages
    # must not change what other callers of py3langid get. Loaded on first use (~0.5 s).
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(LANGUAGES)
    return identifier
