"""Tests for memcli.search.tokenizer: exact token lists wherever practical."""

from __future__ import annotations

import random

import pytest

from memcli.search.tokenizer import MAX_TOKEN_LEN, STOPWORDS, TOKENIZER_VERSION, tokenize


def test_version_is_a_positive_int() -> None:
    assert isinstance(TOKENIZER_VERSION, int)
    assert TOKENIZER_VERSION >= 1


# --- identifiers: the whole compound, then its parts ---------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OPS-1423", ["ops-1423", "ops", "1423"]),
        (
            "ERR_SSL_PROTOCOL_ERROR",
            ["err_ssl_protocol_error", "err", "ssl", "protocol", "error"],
        ),
        ("10.20.3.17", ["10.20.3.17", "10", "20", "3", "17"]),
        ("--no-verify", ["no-verify", "no", "verify"]),
        ("alice@beta.io", ["alice@beta.io", "alice", "beta", "io"]),
        ("v2.3.1", ["v2.3.1", "v2", "3", "1"]),
        (
            "/etc/nginx/nginx.conf",
            ["etc/nginx/nginx.conf", "etc", "nginx", "nginx", "conf"],
        ),
        ("getUserName", ["getusername", "get", "user", "name"]),
        ("HTTPServer", ["httpserver", "http", "server"]),
        ("XMLHttpRequest", ["xmlhttprequest", "xml", "http", "request"]),
        # A camelCase part of a compound keeps its own whole as well.
        (
            "src/HttpServer.py",
            ["src/httpserver.py", "src", "httpserver", "http", "server", "py"],
        ),
        ("10:30", ["10:30", "10", "30"]),
    ],
)
def test_identifiers_kept_whole_and_split(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


def test_identifier_parts_are_stemmed_but_whole_is_not() -> None:
    assert tokenize("ERR_FAILED_CHECKS") == ["err_failed_checks", "err", "fail", "check"]
    assert tokenize("running-tests") == ["running-tests", "run", "test"]


def test_stopword_parts_dropped_but_whole_kept() -> None:
    assert tokenize("state-of-the-art") == ["state-of-the-art", "state", "art"]
    assert tokenize("isValid") == ["isvalid", "valid"]


def test_capitalised_words_and_acronym_plurals_are_not_camel_split() -> None:
    assert tokenize("Hello WORLD") == ["hello", "world"]
    assert tokenize("URLs") == ["url"]


def test_sentence_final_period_does_not_glue() -> None:
    assert tokenize("The db listens on port 6543.") == ["db", "listen", "port", "6543"]
    assert tokenize("Call alice@beta.io.") == ["call", "alice@beta.io", "alice", "beta", "io"]


def test_leading_and_trailing_joiners_are_stripped() -> None:
    assert tokenize("__init__") == ["init"]
    assert tokenize("@alice") == ["alice"]


@pytest.mark.parametrize("variant", ["--no-verify", "no-verify", "git push --no-verify!"])
def test_query_and_document_share_the_identifier_term(variant: str) -> None:
    assert "no-verify" in tokenize(variant)
    assert set(tokenize("--no-verify")) <= set(tokenize(variant))


def test_overlong_whole_is_dropped_but_parts_kept() -> None:
    long_compound = "-".join(["abcdefghij"] * 7)  # 76 chars
    assert tokenize(long_compound) == ["abcdefghij"] * 7


# --- words: punctuation, apostrophes, stopwords, duplicates --------------------------


def test_punctuation_is_never_a_token() -> None:
    assert tokenize("done!!! ok? yes, fine; (really) [x] {y} <z> #tag") == [
        "done",
        "ok",
        "yes",
        "fine",
        "really",
        "x",
        "y",
        "z",
        "tag",
    ]


def test_possessive_dropped_and_contractions_joined() -> None:
    assert tokenize("Caroline's laptop") == ["caroline", "laptop"]
    assert tokenize("Caroline\u2019s laptop") == ["caroline", "laptop"]
    assert tokenize("don't push") == ["dont", "push"]
    assert tokenize("I'll check, we're done") == ["check", "done"]


def test_stopwords_are_removed() -> None:
    assert tokenize("The cat is on the mat and it was there") == ["cat", "mat"]


def test_negation_is_not_a_stopword() -> None:
    assert {"no", "not", "nor"}.isdisjoint(STOPWORDS)
    assert tokenize("do not merge, no tests") == ["not", "merge", "no", "test"]


def test_every_stopword_is_reachable() -> None:
    # A stopword that tokenize can never produce (e.g. "don't") would be dead weight.
    assert 100 <= len(STOPWORDS) <= 150
    for word in STOPWORDS:
        assert tokenize(word) == [], word
        assert tokenize(word.upper()) == [], word


def test_duplicates_kept_in_text_order() -> None:
    assert tokenize("deploy staging, then deploy prod") == [
        "deploy",
        "stage",  # Porter: staging -> stag -> stage
        "deploy",
        "prod",
    ]


@pytest.mark.parametrize("text", ["", " ", "   \n\t  ", "\u3000", "!?.,;:-", "\x00"])
def test_empty_whitespace_and_punctuation_only(text: str) -> None:
    assert tokenize(text) == []


def test_token_length_limit() -> None:
    sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert tokenize(sha256) == [sha256]
    assert tokenize("x" * MAX_TOKEN_LEN) == ["x" * MAX_TOKEN_LEN]
    assert tokenize("x" * (MAX_TOKEN_LEN + 1)) == []


# --- stemming: Porter steps 1a and 1b ------------------------------------------------

PORTER_1AB = {
    "caresses": "caress",
    "ponies": "poni",
    "ties": "ti",
    "caress": "caress",
    "cats": "cat",
    "glasses": "glass",
    "feed": "feed",
    "agreed": "agree",
    "proceed": "procee",
    "plastered": "plaster",
    "bled": "bled",
    "motoring": "motor",
    "sing": "sing",
    "conflated": "conflate",
    "troubled": "trouble",
    "sized": "size",
    "generalizing": "generalize",
    "hopping": "hop",
    "tanned": "tan",
    "falling": "fall",
    "hissing": "hiss",
    "fizzed": "fizz",
    "failing": "fail",
    "filing": "file",
    "hoped": "hope",
    "hopped": "hop",
    "meetings": "meet",
    "running": "run",
    "crying": "cry",
    "controlled": "controll",
    "deployed": "deploy",
    "needed": "need",
    "happy": "happy",
}


@pytest.mark.parametrize(("word", "stem"), sorted(PORTER_1AB.items()))
def test_porter_step_1a_1b(word: str, stem: str) -> None:
    assert tokenize(word) == [stem]


def test_stemming_applies_to_capitalised_words() -> None:
    assert tokenize("Meetings Running") == ["meet", "run"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gas", ["gas"]),  # shorter than 4
        ("1990s", ["1990s"]),  # not purely alphabetic
        ("ελληνικές", ["ελληνικεσ"]),  # not ASCII (casefold maps final sigma)
        ("привет", ["привет"]),
    ],
)
def test_stemming_skips_short_numeric_and_non_ascii(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


# --- Unicode folding -----------------------------------------------------------------


def test_accents_and_case_are_folded() -> None:
    assert tokenize("Café Müller naïve Straße") == ["cafe", "muller", "naive", "strasse"]


@pytest.mark.parametrize(
    "variant",
    ["cafe", "CAFE", "café", "Café", "CAFÉ", "cafe\u0301", "ｃａｆé"],
)
def test_accent_and_width_variants_match(variant: str) -> None:
    assert tokenize(variant) == ["cafe"]


def test_compatibility_forms_fold() -> None:
    # "ﬁ" ligature and FULLWIDTH DIGIT ONE..THREE.
    assert tokenize("ﬁle \uff11\uff12\uff13") == ["file", "123"]


def test_invisible_characters_do_not_split_words() -> None:
    assert tokenize("über\u00adall") == ["uberall"]  # soft hyphen
    assert tokenize("\ufeffhello") == ["hello"]  # byte order mark


def test_script_vowel_signs_are_not_stripped_as_accents() -> None:
    # Devanagari matras/virama and kana voicing marks are letters, not accents.
    assert tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    assert tokenize("ギ") == ["ギ"]


def test_ascii_fast_path_matches_unicode_path() -> None:
    text = "Deploy OPS-1423 via getUserName --no-verify on 10.20.3.17, Caroline's fix."
    assert tokenize(text + " é") == [*tokenize(text), "e"]


# --- CJK bigrams ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("東京都", ["東京", "京都"]),
        ("猫", ["猫"]),
        ("我爱北京", ["我爱", "爱北", "北京"]),
        ("東京にあるcafé", ["東京", "京に", "にあ", "ある", "cafe"]),
        ("ギター", ["ギタ", "ター"]),
        ("ｷﾞﾀｰ", ["ギタ", "ター"]),  # half-width katakana folds to full-width
        ("東京・大阪", ["東京", "大阪"]),  # the middle dot is punctuation
        ("안녕하세요 세계", ["안녕", "녕하", "하세", "세요", "세계"]),
        ("서울 cafe 2024", ["서울", "cafe", "2024"]),
    ],
)
def test_cjk_runs_become_bigrams(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


# --- emoji and symbols ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ship it 🎉", ["ship", "🎉"]),
        ("🎉🎉", ["🎉", "🎉"]),
        ("👍🏽", ["👍"]),  # skin tone dropped
        ("👍🏽 and 👍", ["👍", "👍"]),
        ("👨\u200d👩\u200d👧", ["👨", "👩", "👧"]),  # ZWJ family
        ("❤\ufe0f", ["❤"]),  # variation selector dropped
        ("🇫🇷 trip", ["🇫🇷", "trip"]),  # regional-indicator pair is one flag
    ],
)
def test_emoji_tokens(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


def test_symbols_other_than_so_are_not_tokens() -> None:
    assert tokenize("a → b ± c § d — e") == ["b", "c", "d", "e"]


# --- robustness ----------------------------------------------------------------------

_GARBAGE_RANGES = [
    (0x00, 0x1F),  # control characters, NUL included
    (0x20, 0x7E),
    (0x80, 0x2FF),
    (0x300, 0x36F),  # combining marks, including ones with no base
    (0x0900, 0x097F),
    (0x2000, 0x206F),  # general punctuation, ZWJ, invisible operators
    (0x3000, 0x30FF),
    (0x4E00, 0x4E80),
    (0xAC00, 0xAC80),
    (0xE000, 0xE0FF),  # private use
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFF0, 0xFFFF),  # specials and noncharacters
    (0x1F1E6, 0x1F1FF),
    (0x1F300, 0x1F6FF),
    (0x10FFF0, 0x10FFFF),
]


def test_random_garbage_does_not_crash() -> None:
    rng = random.Random(1234)
    for _ in range(20):
        chars = [chr(rng.randint(*rng.choice(_GARBAGE_RANGES))) for _ in range(2000)]
        tokens = tokenize("".join(chars))
        assert all(isinstance(t, str) and 0 < len(t) <= MAX_TOKEN_LEN for t in tokens)
        assert not any(ch.isspace() for t in tokens for ch in t)
        assert not any(t in STOPWORDS for t in tokens)


def test_lone_surrogates_do_not_crash() -> None:
    assert tokenize("\udc80abc\ud800") == ["abc"]
