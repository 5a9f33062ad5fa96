"""memcli recall: exact words, meaning, filters, explain, the relevance floor, identifiers
and non-Latin text (SPEC §2 and §3)."""

from __future__ import annotations

import pytest

from tests.cli.helpers import ID_RE, UNRELATED_QUERY, add, add_fillers, recall_ids

KEYWORD = ("--mode", "keyword")

EXPLAIN_KEYS = {"bm25", "cosine", "keyword", "semantic", "fused", "retention", "prior"}


def test_recall_finds_by_exact_words(cli) -> None:
    add_fillers(cli)
    memory_id = add(cli, "staging db is on port 6543, user ro_reader")
    assert recall_ids(cli, "ro_reader")[0] == memory_id
    assert recall_ids(cli, "port 6543", "--mode", "keyword") == [memory_id]


def test_recall_json_has_the_contract_fields(cli) -> None:
    add_fillers(cli)
    memory_id = add(cli, "the plumber comes on tuesday", "-t", "home")
    result = cli("--json", "recall", "plumber")
    assert result.code == 0, result
    hit = result.json()[0]
    assert hit["id"] == memory_id
    assert hit["text"] == "the plumber comes on tuesday"
    assert hit["tags"] == ["home"]
    assert hit["created_at"].endswith("Z")
    assert 0 < hit["score"] <= 1.5


def test_recall_finds_by_meaning(cli) -> None:
    add_fillers(cli)
    memory_id = add(cli, "my automobile needs new tires")
    assert recall_ids(cli, "car tires", "--mode", "semantic")[0] == memory_id
    assert recall_ids(cli, "car tires")[0] == memory_id  # hybrid
    assert recall_ids(cli, "vehicle", *KEYWORD) == []


def test_recall_by_meaning_other_synonyms(cli) -> None:
    add_fillers(cli)
    doctor = add(cli, "appointment with the physician next week")
    dog = add(cli, "the puppy needs a vet")
    wifi = add(cli, "forgot the passphrase for the router")
    assert recall_ids(cli, "doctor", "--mode", "semantic")[0] == doctor
    assert recall_ids(cli, "dog", "--mode", "semantic")[0] == dog
    assert recall_ids(cli, "wifi password", "--mode", "semantic")[0] == wifi
    assert recall_ids(cli, "doctor", *KEYWORD) == []


def test_limit(cli) -> None:
    add_fillers(cli)
    ids = {add(cli, f"garden task number {n}: weeding bed {n}") for n in range(4)}
    found = recall_ids(cli, "garden weeding", "-k", "2", *KEYWORD)
    assert len(found) == 2 and set(found) <= ids
    assert set(recall_ids(cli, "garden weeding", "--limit", "10", *KEYWORD)) == ids
    assert len(recall_ids(cli, "garden weeding", "-k", "1")) == 1
    assert cli("recall", "garden", "-k", "0").code == 2


def test_tag_filter_is_an_and_of_tags(cli) -> None:
    add_fillers(cli)
    both = add(cli, "backup the server disk", "-t", "work,db")
    work = add(cli, "backup the laptop disk", "-t", "work")
    db = add(cli, "backup the database disk", "-t", "db")
    assert set(recall_ids(cli, "backup disk", *KEYWORD)) == {both, work, db}
    assert set(recall_ids(cli, "backup disk", "-t", "work", *KEYWORD)) == {both, work}
    assert recall_ids(cli, "backup disk", "-t", "work", "-t", "db") == [both]
    assert recall_ids(cli, "backup disk", "--tag", "#WORK,db") == [both]
    assert recall_ids(cli, "backup disk", "-t", "nosuchtag") == []


def test_since_and_until_filter_by_created_at(cli) -> None:
    add_fillers(cli)
    march = add(cli, "deploy meeting notes march", "--at", "2025-03-20T12:00:00Z")
    january = add(cli, "deploy meeting notes january", "--at", "2024-01-10T12:00:00Z")
    today = add(cli, "deploy meeting notes today")

    def found(*options: str) -> set[str]:
        return set(recall_ids(cli, "deploy meeting", *KEYWORD, *options))

    assert found() == {march, january, today}
    assert found("--since", "2025-01-01") == {march, today}
    assert found("--until", "2025-03") == {march, january}
    assert found("--until", "2025-03-19") == {january}
    assert found("--since", "2025-01", "--until", "2025-12") == {march}
    assert found("--since", "3d") == {today}


def test_all_includes_archived(cli) -> None:
    add_fillers(cli)
    memory_id = add(cli, "the old alarm code was 4455")
    assert cli("archive", memory_id).code == 0
    assert recall_ids(cli, "alarm code", *KEYWORD) == []
    assert recall_ids(cli, "alarm code", "--all", *KEYWORD) == [memory_id]
    assert memory_id in recall_ids(cli, "alarm code", "--all")


def test_explain_adds_the_score_components(cli) -> None:
    add_fillers(cli)
    memory_id = add(cli, "the dentist said to floss more")
    hits = cli("--json", "recall", "dentist floss", "--explain").json()
    assert hits[0]["id"] == memory_id
    explain = hits[0]["explain"]
    assert set(explain) >= EXPLAIN_KEYS
    assert explain["bm25"] > 0 and explain["cosine"] > 0
    assert 0 < explain["retention"] <= 1
    plain = cli("--json", "recall", "dentist floss").json()
    assert "explain" not in plain[0]


def test_explain_in_text_mode(cli) -> None:
    add_fillers(cli)
    add(cli, "the dentist said to floss more")
    result = cli("recall", "dentist floss", "--explain")
    assert result.code == 0, result
    assert "bm25" in result.stdout and "cosine" in result.stdout


def test_min_score_above_every_score_returns_nothing(cli) -> None:
    add_fillers(cli)
    add(cli, "the dentist said to floss more")
    # Scores approach 1 and never reach it (memcli/search/fusion.py).
    result = cli("--json", "recall", "dentist floss", "--min-score", "1")
    assert result.code == 0, result
    assert result.json() == []


def test_nothing_relevant_returns_an_empty_list(cli) -> None:
    add_fillers(cli)
    add(cli, "the dentist said to floss more")
    result = cli("--json", "recall", UNRELATED_QUERY)
    assert result.code == 0, result
    assert result.json() == []
    plain = cli("recall", UNRELATED_QUERY)
    assert plain.code == 0 and plain.stdout == ""


def test_recall_on_a_fresh_home(cli, store_path) -> None:
    result = cli("--json", "recall", "anything at all")
    assert result.code == 0, result
    assert result.json() == []
    assert "Traceback" not in result.stderr
    assert not store_path.exists()


IDENTIFIER_TEXT = "ticket OPS-1423 broke ERR_SSL_PROTOCOL_ERROR on 10.20.3.17"


@pytest.mark.parametrize(
    "query", ["OPS-1423", "ERR_SSL_PROTOCOL_ERROR", "10.20.3.17", "ssl protocol error", "ops-1423"]
)
def test_identifiers_are_found_by_keyword(cli, query: str) -> None:
    add_fillers(cli)
    memory_id = add(cli, IDENTIFIER_TEXT)
    add(cli, "ticket OPS-9999 is about the coffee machine")
    assert recall_ids(cli, query, "--mode", "keyword")[0] == memory_id


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("meet at the café near the station", "cafe"),
        ("meet at the cafe near the station", "café"),
        ("東京都の会議は月曜日です", "東京"),
        ("Straße gesperrt wegen Bauarbeiten", "strasse"),
    ],
)
def test_non_ascii_text_is_found(cli, text: str, query: str) -> None:
    add_fillers(cli)
    memory_id = add(cli, text)
    assert recall_ids(cli, query, "--mode", "keyword") == [memory_id]


def test_emoji_text_does_not_crash(cli) -> None:
    add_fillers(cli)
    memory_id = add(cli, "party 🎉🎉 tonight 🍕 at sam's 👩‍👩‍👧")
    for query in ("🎉", "party tonight", "🍕 pizza"):
        result = cli("--json", "recall", query)
        assert result.code == 0, result
    assert memory_id in recall_ids(cli, "party tonight")
    assert cli("recall", "👩‍👩‍👧").code == 0


def test_quiet_prints_ids_only(cli) -> None:
    add_fillers(cli)
    ids = {add(cli, f"garden bed {n} needs compost") for n in range(3)}
    result = cli("-q", "recall", "garden compost", *KEYWORD)
    assert result.code == 0, result
    lines = result.stdout.splitlines()
    assert all(ID_RE.fullmatch(line) for line in lines), result
    assert set(lines) == ids


def test_text_output_shows_id_and_text(cli) -> None:
    add_fillers(cli)
    memory_id = add(cli, "the plumber comes on tuesday", "-t", "home")
    result = cli("recall", "plumber")
    assert result.code == 0, result
    assert memory_id in result.stdout
    assert "the plumber comes on tuesday" in result.stdout
    assert "#home" in result.stdout


@pytest.fixture(params=["model", "no-model"])
def model_or_not(request, tmp_path, monkeypatch) -> str:
    """Run the test with the tiny model, and again with MEMCLI_MODEL_PATH on an empty folder."""
    if request.param == "no-model":
        (tmp_path / "empty").mkdir()
        monkeypatch.setenv("MEMCLI_MODEL_PATH", str(tmp_path / "empty"))
    return str(request.param)


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_recall_in_a_store_with_one_memory(cli, model_or_not, mode: str) -> None:
    # BM25's idf is negative for a term in most memories; exact words must still be found.
    memory_id = add(cli, "paid the plumber and fixed the garden fence")
    assert recall_ids(cli, "plumber", "--mode", mode) == [memory_id]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_recall_returns_every_memory_with_common_query_words(cli, model_or_not, mode) -> None:
    add(cli, "my automobile needs new tires")
    old = add(cli, "old phone number is 555-1234")
    new = add(cli, "new phone number is 555-9999")
    assert set(recall_ids(cli, "phone number", "--mode", mode)) == {old, new}


def test_the_newer_of_two_conflicting_notes_comes_first_and_the_older_is_marked(cli) -> None:
    add_fillers(cli)
    old = add(cli, "Bob's phone 555-1234", "--at", "2025-01-10")
    new = add(cli, "Bob's phone is now 555-9876", "--at", "2025-06-01")
    hits = cli("--json", "recall", "Bob's phone").json()
    assert [h["id"] for h in hits[:2]] == [new, old]
    assert hits[0]["stale_candidate"] is False and "newer" not in hits[0]
    assert hits[1]["stale_candidate"] is True and hits[1]["newer"] == new
    assert hits[1]["score"] <= hits[0]["score"]
    text = cli("recall", "Bob's phone")
    assert f"(older than {new})" in text.stdout.splitlines()[1]
    # Two people's numbers are two facts: nothing is marked.
    alice = add(cli, "Alice's phone is 555-4444", "--at", "2025-07-01")
    marked = {
        h["id"] for h in cli("--json", "recall", "phone", "-k", "5").json() if h["stale_candidate"]
    }
    assert alice not in marked and new not in marked


def test_min_score_replaces_the_floor(cli) -> None:
    from memcli.search.fusion import DEFAULT_PARAMS

    add_fillers(cli)
    add(cli, "the dentist said to floss more")
    default = cli("--json", "recall", "dentist appointment tomorrow").json()
    every = cli("--json", "recall", "dentist appointment tomorrow", "--min-score", "0").json()
    assert all(h["score"] >= DEFAULT_PARAMS.floor for h in default)
    assert len(every) >= len(default)
    assert {h["id"] for h in default} <= {h["id"] for h in every}


def test_an_empty_answer_says_so_on_a_terminal_only(store_path) -> None:
    """stdout stays empty (a script sees no hit); a person at a terminal reads why."""
    import os
    import pty
    import subprocess
    import sys

    def recall(stderr_tty: bool) -> tuple[str, str]:
        if not stderr_tty:
            done = subprocess.run(
                [sys.executable, "-m", "memcli", "recall", UNRELATED_QUERY],
                capture_output=True,
                text=True,
                timeout=120,
            )
            return done.stdout, done.stderr
        main, side = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "memcli", "recall", UNRELATED_QUERY],
            stdout=subprocess.PIPE,
            stderr=side,
            text=True,
        )
        os.close(side)
        stdout, _ = process.communicate(timeout=120)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(main)
        assert process.returncode == 0
        return stdout, b"".join(chunks).decode()

    subprocess.run(
        [sys.executable, "-m", "memcli", "add", "the dentist said to floss more"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    stdout, stderr = recall(stderr_tty=True)
    assert stdout == "" and "nothing relevant found" in stderr
    stdout, stderr = recall(stderr_tty=False)
    assert stdout == "" and "nothing relevant" not in stderr
