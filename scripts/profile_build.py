"""CPU µs per sample record of each stage of RecordBuilder.build: python -m scripts.profile_build [--records N].

Stages are timed apart on the same records (limits: the size caps, which the server skips for short bodies; load:
the schema; totals); build is the whole, as the server runs it; rest is build less load and totals; validate_us is
scripts.bench_lib's figure. digests is no part of build: the content digests of one record, which a resend that
meets a stored record computes for it and for the stored one."""

from __future__ import annotations

import argparse
import contextvars
import cProfile
import gc
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson
from bson import ObjectId

from app.domain.digest import record_digests
from app.domain.instants import utc_now
from app.domain.limits import record_limit_errors, vouch_within_caps
from app.domain.totals import price_breakdown
from app.records import RecordBuilder, with_decimal_places
from app.settings import make_settings
from scripts.bench_lib import BATCH, batches, prepare
from scripts.make_sample_data import generate_records


def fresh(body: bytes) -> list[dict[str, Any]]:
    """The records of one body, parsed anew, as the server has them."""
    return orjson.loads(body)


def stage_us(bodies: list[bytes], count: int, fn: Callable[[dict[str, Any]], Any]) -> float:
    spent = 0.0
    for body in bodies:
        raws = fresh(body)
        t0 = time.thread_time()
        for raw in raws:
            fn(raw)
        spent += time.thread_time() - t0
    return spent * 1e6 / count


def vouched_us(bodies: list[bytes], count: int, fn: Callable[[dict[str, Any]], Any]) -> float:
    vouch_within_caps()
    return stage_us(bodies, count, fn)


def measure(count: int, rounds: int) -> dict[str, float]:
    settings = make_settings()
    builder, now = RecordBuilder(settings.gdpr), utc_now()
    records = list(generate_records(count, seed=0, start=0))
    bodies = [orjson.dumps(b) for b in batches(records, BATCH)]
    # loaded copies for the stages that start from a loaded record (totals, digests)
    loaded = [with_decimal_places(builder.loader.load(raw)) for body in bodies for raw in fresh(body)]
    loaded_bodies = [orjson.dumps(b) for b in batches(loaded, BATCH)]
    stages: dict[str, Callable[[dict[str, Any]], Any]] = {
        "limits": lambda raw: record_limit_errors(raw, builder.limits),
        "load": builder.loader.load,
        "totals": price_breakdown,
        "digests": lambda data: record_digests(data, False),
        "build": lambda raw: builder.build(raw, str(ObjectId()), now),  # vouched, as validate_us and the server
    }
    samples: dict[str, list[float]] = {name: [] for name in (*stages, "rest", "validate_us")}
    gc.collect()
    gc.freeze()
    for _ in range(rounds):
        figures = {name: stage_us(loaded_bodies if name in ("totals", "digests") else bodies, count, fn)
                   for name, fn in stages.items() if name != "build"}
        figures["build"] = contextvars.Context().run(vouched_us, bodies, count, stages["build"])
        figures["rest"] = figures["build"] - sum(figures[n] for n in ("load", "totals"))
        figures["validate_us"] = prepare(count, settings)[2]["validate_us"]
        for name, value in figures.items():
            samples[name].append(value)
    return {name: statistics.median(values) for name, values in samples.items()}


def profile(count: int) -> None:
    builder, now = RecordBuilder(make_settings().gdpr), utc_now()
    raws = orjson.loads(orjson.dumps(list(generate_records(count, seed=0, start=0))))
    with cProfile.Profile() as profiler:
        for raw in raws:
            builder.build(raw, str(ObjectId()), now)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="a cProfile run of build instead")
    args = parser.parse_args()
    if args.profile:
        profile(args.records)
        return
    for name, value in measure(args.records, args.rounds).items():
        print(f"{name:12} {value:7.1f} µs/record")


if __name__ == "__main__":
    main()
