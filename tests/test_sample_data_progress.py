"""scripts/make_sample_data.py says what it does: a progress bar while it works, where it wrote, how much."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

import pytest

from scripts import make_sample_data


class VisibleBar(make_sample_data.tqdm):  # type: ignore[misc,name-defined]
    """The bar as a terminal would show it, drawn into a string."""

    drawn = io.StringIO()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "file": VisibleBar.drawn, "disable": False, "mininterval": 0})


def test_a_file_in_a_new_directory_with_progress_and_a_last_word(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(make_sample_data, "tqdm", VisibleBar)
    VisibleBar.drawn = io.StringIO()
    target = tmp_path / "data" / "sample.jsonl.gz"  # data/ does not exist yet
    assert make_sample_data.main(["--count", "2500", "--seed", "1", "--out", str(target)]) == 0
    assert len(gzip.decompress(target.read_bytes()).splitlines()) == 2500
    drawn = VisibleBar.drawn.getvalue()
    assert "2.50k/2.50k" in drawn and "100%" in drawn and " 40%" in drawn  # it moved on the way
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"wrote 2,500 records to {target} (") and " MiB) in " in err
