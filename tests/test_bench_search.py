"""Smoke test of the search bench on tiny stores: every query reports both figures (nothing is timed)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from scripts import bench_search


def test_search_bench_reports_every_query(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "search.json"
    assert bench_search.main(["--records", "1000", "--factor", "2", "--json", str(out)]) == 0
    figures = orjson.loads(out.read_bytes())
    assert (figures["small"], figures["large"]) == (1000, 2000)
    assert set(figures["queries"]) == set(bench_search.QUERIES)
    assert all(q["small_ms"] > 0 and q["large_ms"] > 0 for q in figures["queries"].values())
    table = capsys.readouterr().out
    assert table.count("PASS") + table.count("FAIL") == len(bench_search.QUERIES)
