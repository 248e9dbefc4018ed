"""scripts/bench_store_ingest runs end to end at a tiny size and prints its figures."""

from __future__ import annotations

import pytest

from scripts import bench_store_ingest


def test_it_prints_rate_and_cpu_per_record(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_store_ingest.main(["--records", "60", "--repeats", "1", "--concurrency", "3"]) == 0
    out = capsys.readouterr().out
    assert "60 records" in out and "records/s" in out and "µs CPU/record" in out
