"""The loyaltykit commands on a SQLite file, run in-process: import, look-ups, due work,
what-if and reports, each with its exit status and --json form."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from loyaltykit.cli import main
from loyaltykit.demo import PROGRAMME

FEEDS = Path(__file__).parents[2] / "examples" / "feeds"


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    address = f"sqlite:///{tmp_path / 'loyalty.db'}"
    monkeypatch.setenv("LOYALTYKIT_DB", address)
    monkeypatch.setenv("LOYALTYKIT_PROGRAM", str(PROGRAMME))
    assert main(["init", "--db", address]) == 0
    return address


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    status = main(list(arguments))
    out, err = capsys.readouterr()
    return status, out, err


def as_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> object:
    status, out, err = run(capsys, *arguments, "--json")
    assert status == 0, err
    return json.loads(out)


@pytest.mark.parametrize("name", ["events.jsonl", "events.csv"])
def test_an_import_applies_every_row_once_and_a_rerun_changes_nothing(
    url: str, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = str(FEEDS / name)
    first = as_json(capsys, "import", "events", feed)
    assert isinstance(first, dict)
    assert first["bad"] == [] and first["replayed"] == 0 and first["applied"] > 0
    before = as_json(capsys, "statement", "m-li")
    again = as_json(capsys, "import", "events", feed)
    assert again == {"applied": first["applied"], "replayed": first["applied"], "bad": []}
    assert as_json(capsys, "statement", "m-li") == before


def test_a_bad_row_is_reported_with_its_line_and_nothing_of_it_is_applied(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "night.jsonl"
    lines = (FEEDS / "events.jsonl").read_text(encoding="utf-8").splitlines()[:4]
    lines.insert(2, '{"kind": "purchase", "customer": "m-li", "key": "o-9", "at": "2026-03-04"}')
    lines.insert(3, "not json")
    lines.append(
        '{"kind": "refund", "customer": "m-li", "key": "r-1", "at": "2026-03-09T12:00:00Z"}'
    )
    lines.append(
        '{"kind": "refund", "customer": "nobody", "key": "r-2", "at": "2026-03-09T12:00:00Z",'
        ' "purchase": "order-1001"}'
    )
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out, err = run(capsys, "import", "events", str(feed))
    assert status == 4
    assert "line 3: at: '2026-03-04' has no UTC offset" in out
    assert "line 4: not JSON" in out
    assert "line 7: the field 'purchase' is missing" in out
    assert "line 8: no customer with id 'nobody'" in out
    assert err == f"loyaltykit: error: {feed}: 4 rows refused\n"
    done = as_json(capsys, "explain", "m-li", "order-1001")
    assert isinstance(done, dict) and done["command"] == "record_purchase"
    status, _, err = run(capsys, "explain", "m-li", "o-9")
    assert status == 1 and "no command of customer 'm-li' has the key 'o-9'" in err


def test_customer_show_statement_and_explain_say_why(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "import", "events", str(FEEDS / "events.jsonl"))[0] == 0
    shown = as_json(capsys, "customer", "show", "m-li", "--at", "2026-04-01T00:00:00+08:00")
    assert isinstance(shown, dict)
    assert shown["tier"] == {"effective": "member", "why": ""}
    assert "name" not in shown["customer"]["profile"]  # personal data stays out
    balance = shown["balances"][0]
    assert sum(lot["remaining"] for lot in shown["lots"]) == balance["available"]
    statement = as_json(capsys, "statement", "m-li")
    assert isinstance(statement, dict)
    assert sum(line["entry"]["amount"] for line in statement["lines"]) == balance["available"]
    status, out, _ = run(capsys, "explain", "m-li", "order-1001")
    assert status == 0
    assert "+ spend-500: spend 500 CNY -> +100" in out and "+ welcome" in out
    status, _, err = run(capsys, "customer", "show", "nobody")
    assert (status, err) == (1, "loyaltykit: error: no customer with id 'nobody'\n")


def test_run_due_expires_what_fell_due(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "import", "events", str(FEEDS / "events.jsonl"))[0] == 0
    done = as_json(capsys, "run-due", "--at", "2026-12-01T00:00:00+08:00")
    assert isinstance(done, dict)
    assert done["expired"]["expired"] > 0
    again = as_json(capsys, "run-due", "--at", "2026-12-01T00:00:00+08:00")
    assert isinstance(again, dict) and again["expired"]["expired"] == 0


def test_replay_compares_the_programmes_per_customer_and_in_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOYALTYKIT_PROGRAM", str(PROGRAMME))
    proposed = tmp_path / "proposed.toml"
    text = PROGRAMME.read_text(encoding="utf-8")
    proposed.write_text(text.replace('threshold = "500"', 'threshold = "250"'), encoding="utf-8")
    done = as_json(capsys, "replay", str(FEEDS / "events.jsonl"), "--program", str(proposed))
    assert isinstance(done, dict)
    # every full 250 CNY now earns the 50-point bonus: 1299 -> 5 bonuses instead of 2;
    # 468.50 -> 1 instead of none, doubled: m-wang bought on member day (the 8th)
    assert done["points"]["delta"] == (5 - 2) * 50 + (1 - 0) * 50 * 2
    assert done["liability"]["delta"] == {"amount": "2.50", "currency": "CNY"}
    assert {row["customer_id"] for row in done["biggest_changes"]} == {"m-li", "m-wang"}


def test_replay_streams_with_a_progress_bar_and_refuses_a_feed_out_of_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOYALTYKIT_PROGRAM", str(PROGRAMME))
    feed = FEEDS / "events.jsonl"
    status, _, errors = run(capsys, "replay", str(feed), "--program", str(PROGRAMME), "--progress")
    assert status == 0 and "replay" in errors  # the bar, on stderr
    proposed = tmp_path / "proposed.toml"
    text = PROGRAMME.read_text(encoding="utf-8")
    proposed.write_text(text.replace('threshold = "500"', 'threshold = "250"'), encoding="utf-8")
    one = as_json(capsys, "replay", str(feed), "--program", str(proposed))
    two = as_json(capsys, "replay", str(feed), "--program", str(proposed), "--jobs", "2")
    assert one == two  # each programme in a process of its own: the same report
    lines = feed.read_text(encoding="utf-8").splitlines()
    purchases = [n for n, line in enumerate(lines) if '"purchase"' in line]
    first, second = purchases[0], purchases[1]
    lines[first], lines[second] = lines[second], lines[first]
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, _, errors = run(capsys, "replay", str(shuffled), "--program", str(PROGRAMME))
    assert status == 1 and "time order" in errors


def test_report_writes_an_html_page(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "import", "events", str(FEEDS / "events.jsonl"))[0] == 0
    page = tmp_path / "report.html"
    status, out, err = run(
        capsys, "report", "--at", "2026-06-01T00:00:00+08:00", "--html", str(page)
    )
    assert status == 0, err
    assert f"HTML report written to {page}" in out and "reconciles" in out
    assert page.read_text(encoding="utf-8").count("<svg") >= 5


def test_program_check_lists_every_problem_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "program", "check", str(PROGRAMME))
    assert status == 0 and "programme 'jade-mall-demo'" in out
    broken = tmp_path / "broken.toml"
    text = PROGRAMME.read_text(encoding="utf-8")
    broken.write_text(
        text.replace('per = "10"', 'per = "ten"').replace('factor = "2"', "factor = []", 1),
        encoding="utf-8",
    )
    status, out, err = run(capsys, "program", "check", str(broken), "--json")
    assert status == 1
    problems = json.loads(out)["problems"]
    assert any(problem.startswith("rules[0]") for problem in problems), problems
    assert err.count("\n") == 1


def test_program_test_runs_the_battery_and_fails_on_a_broken_programme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = Path(__file__).parents[2] / "examples" / "programs" / "telecom.toml"
    result = as_json(capsys, "program", "test", str(good), "--examples", "5")
    assert isinstance(result, dict) and result["ok"] is True
    assert {p["name"] for p in result["properties"]} >= {"no_negative_earn", "round_trips"}
    broken = tmp_path / "rounding.toml"
    broken.write_text(
        'name = "rounds-up"\n'
        '[[rules]]\nid = "base"\nkind = "base_rate"\nper = "10"\nrounding = "ROUND_UP"\n',
        encoding="utf-8",
    )
    status, out, err = run(capsys, "program", "test", str(broken), "--examples", "20")
    assert status == 1, out
    assert "split_never_earns_more" in out and "split_never_earns_more" in err


def test_opening_a_database_without_the_schema_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(FEEDS / "events.jsonl", tmp_path / "e.jsonl")
    old = f"sqlite:///{tmp_path / 'old.db'}"
    assert main(["db", "upgrade", old, "--revision", "0002"]) == 0
    capsys.readouterr()
    status, _, err = run(capsys, "statement", "m-li", "--db", old)
    assert status == 3
    assert f"run loyaltykit db upgrade '{old}'" in err


def test_a_file_that_cannot_be_written_is_one_line(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no" / "such" / "dir" / "report.html"
    status, _, err = run(
        capsys, "report", "--at", "2026-06-01T00:00:00+08:00", "--html", str(target)
    )
    assert status == 1
    assert err.startswith("loyaltykit: error: ") and "No such file or directory" in err
    assert err.count("\n") == 1
