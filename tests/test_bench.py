"""Smoke test of scripts/bench.py on tiny sizes: every figure is there and positive (nothing is timed)."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from app.settings import make_settings
from scripts import bench, bench_lib

FIGURES = {
    "parse_us", "validate_us", "serialize_us",
    "ingest_http_rps", "ingest_store_rps", "ingest_store_sequential_rps", "ingest_store_concurrent_rps",
    "ingest_ratio", "read_http_rps", "read_store_rps", "read_ratio",
    "ingest_server_cpu_us", "ingest_client_cpu_us", "read_server_cpu_us", "read_client_cpu_us",
    "server_peak_rss_mib", "server_peak_rss_max_process_mib", "server_processes",
    "read_page_bytes", "read_transfer_ms", "read_store_page_ms", "read_ratio_ceiling", "read_ratio_of_ceiling",
}
RSS_FIGURES = {"rss_backfill_peak_mib", "rss_backfill_peak_max_process_mib", "rss_read_peak_mib",
               "rss_read_peak_max_process_mib", "rss_backfill_s", "rss_read_s"}
BACKENDS = [("sqlite", 1), ("sqlite", 2),
            pytest.param("mongodb", 1, marks=pytest.mark.skipif(not os.environ.get(bench.MONGODB_URI),
                                                                  reason=f"{bench.MONGODB_URI} is not set"))]


@pytest.mark.parametrize(("backend", "workers"), BACKENDS)
def test_bench_reports_every_figure(backend: str, workers: int, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    assert bench.main(["--records", "120", "--concurrency", "3", "--workers", str(workers), "--read-passes", "2",
                       "--backend", backend, "--json", str(out)]) == 0

    figures = orjson.loads(out.read_bytes())
    assert figures.keys() >= FIGURES
    assert {k: figures[k] for k in FIGURES if not figures[k] > 0} == {}
    assert figures["server_processes"] >= workers
    assert (figures["backend"], figures["records"], figures["workers"]) == (backend, 120, workers)
    assert figures["read_ahead_pages"] == (make_settings().sqlite.read_ahead_pages if backend == "sqlite" else 0)
    assert figures["ingest_store_rps"] == max(figures["ingest_store_sequential_rps"],
                                              figures["ingest_store_concurrent_rps"])
    assert figures["read_ratio_ceiling"] < 1
    # every pass times the service, the store alone and the bare transfer; the figures are their medians
    passes = figures["read_passes_page_ms"]
    assert len(passes) == 2 and all(p.keys() == {"http", "store", "transfer"} for p in passes)
    assert all(v > 0 for p in passes for v in p.values())
    for key, figure in (("store", "read_store_page_ms"), ("transfer", "read_transfer_ms")):
        assert figures[figure] == pytest.approx((passes[0][key] + passes[1][key]) / 2)
    assert figures["read_page_bytes"] > 100 * 2000  # the whole first page (120 records of about 2.8 KB)
    assert set(figures["targets"]) == {"ingest_ratio", "read_ratio"}
    assert all(isinstance(t["pass"], bool) for t in figures["targets"].values())
    # the read target is 0.9 of the ceiling this run measured
    assert figures["targets"]["read_ratio"]["target"] == pytest.approx(0.9 * figures["read_ratio_ceiling"])
    assert figures["targets"]["ingest_ratio"]["target"] == 0.5
    assert not figures.keys() & RSS_FIGURES  # the RSS section only when asked for
    table = capsys.readouterr().out
    assert "ingest, records/s" in table and "paged reads, records/s" in table
    assert table.count("PASS") + table.count("FAIL") == 2
    assert f"≥ 0.9 × ceiling {figures['read_ratio_ceiling']:.3f}" in table
    assert f"reading ahead {figures['read_ahead_pages']} page(s)" in table


def test_bench_measures_peak_rss_of_a_backfill_and_a_full_read(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    assert bench.main(["--records", "60", "--concurrency", "2", "--read-passes", "1", "--backend", "sqlite",
                       "--rss-records", "130", "--read-ahead-pages", "0", "--json", str(out)]) == 0

    figures = orjson.loads(out.read_bytes())
    assert {k: figures[k] for k in RSS_FIGURES if not figures[k] > 0} == {}
    assert figures["read_ahead_pages"] == 0
    assert (figures["rss_records"], figures["rss_limit_mib"]) == (130, 300)
    assert figures["rss_phase_peaks"] is True  # Linux: each phase's own peak
    for phase in ("backfill", "read"):
        assert figures["targets"][f"rss_{phase}_peak_mib"] == {
            "below": 300, "pass": figures[f"rss_{phase}_peak_mib"] < 300}
    table = capsys.readouterr().out
    assert "backfill of 130 records" in table and "full paged read of them" in table
    assert table.count("PASS") + table.count("FAIL") == 4


def answer(*statuses: str) -> bytes:
    details = [{"status": s, "orderRecord": {"id": f"id{i}"}} if s != "FAILED"
               else {"status": s, "error": {"type": "VALIDATION", "message": "x: y"}} for i, s in enumerate(statuses)]
    summary = {"created": statuses.count("CREATED"), "updated": 0, "unchanged": statuses.count("UNCHANGED")}
    return orjson.dumps({"summary": summary, "details": details})


def test_ingest_takes_the_ids_of_created_records_in_order() -> None:
    assert bench_lib.created_ids([answer("CREATED", "CREATED"), answer("CREATED")]) == ["id0", "id1", "id0"]


@pytest.mark.parametrize("statuses", [("CREATED", "UNCHANGED"), ("FAILED", "CREATED")])
def test_ingest_of_anything_but_created_voids_the_run(statuses: tuple[str, ...]) -> None:
    with pytest.raises(RuntimeError, match="1 records not CREATED"):
        bench_lib.created_ids([answer("CREATED"), answer(*statuses)])
