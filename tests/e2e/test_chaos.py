"""The chaos suite, short: every fault once under a steady stream; nothing lost or doubled."""

from __future__ import annotations

import pytest

from bench.chaos import Chaos, print_report

pytestmark = pytest.mark.e2e


def test_chaos_short_run_loses_and_duplicates_nothing() -> None:
    chaos = Chaos(rate_per_s=8.0, outage_s=3.0, seed=7)
    try:
        result = chaos.run(rounds=1, settle_s=90)
    finally:
        chaos.stop()
    print_report(result)
    assert result["acknowledged"] > 50
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["missing_from_command_view"] == 0
    assert not result["stuck_queues"], result["stuck_queues"]
    assert all(f["ready_after_s"] is not None for f in result["faults"]), result["faults"]
    reasons = result["dead_letter_reasons"]
    assert sum(reasons.values()) >= result["poison_sent"], reasons
