"""The benchmarks print figures and are not run here; what they cover and how they report is."""

from collections import Counter

from bench import ack_cases
from bench.ack_report import Options, Row, table
from bot.actions import InterviewAction


def test_every_interview_action_has_an_acknowledgement_case() -> None:
    covered = {case.action for case in ack_cases.CASES}
    assert set(InterviewAction) <= covered
    assert set(ack_cases.QUICK) <= {case.label for case in ack_cases.CASES}


def test_the_table_puts_each_row_beside_the_floor_of_its_kind() -> None:
    details = next(case for case in ack_cases.CASES if case.label == "View details")
    ours = {("View details", 50): Row([10.0, 20.0, 400.0], Counter({"200": 2, "404": 1}), 2, 1.5, [30.0, 50.0])}
    floor = {(details.entry, 50): Row([5.0, 10.0, 100.0], Counter({"200": 3}), 3, 0.0)}

    [row] = [line for line in table(Options(levels=(50,), cases=(details,)), ours, floor).splitlines()
             if line.startswith("| View details")]

    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:5] == ["View details", "button", "50", "20.0", f"{ours['View details', 50].p99:.1f}"]
    assert cells[7] == "2.0"  # p50 ÷ the floor's p50
    assert cells[9] == "40 / 50"  # the answers through response_url
    assert cells[10:] == ["2/3", "1 (404×1)", "1.5"]
