"""A second attack, with inputs the first one did not try: each through the real `kgrag`, in its
own data folder, under a time limit. None may print a traceback or hang; each is refused with
one line naming the problem, or read as what it is.

Three of them found faults, fixed with these tests: a library that is a link to a device (or a
folder) was silently replaced by the shipped list; a title of only invisible characters
(zero-width space, bidi override, byte order mark) was accepted; a data folder whose place holds
a file was reported as a lock problem. A fourth was slow: one title 20,000 times in a file took
a minute (each id probed every earlier one) and is now linear (`PaperIds`).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kg.library import add_files
from tests.fixtures.kg import REPO

KGRAG = REPO / ".venv" / "bin" / "kgrag"


def _kgrag(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("KGRAG_CORPUS", "KGRAG_DEBUG")}
    environ.update({"KGRAG_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", **env})
    return subprocess.run([str(KGRAG), *args], cwd=data.parent, env=environ, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def _jsonl(path: Path, *rows: object) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _bib(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _string_bomb(folder: Path) -> list[str]:
    """@string macros that would double 39 times if expanded eagerly (5 TB)."""
    macros = '@string{a0 = "xxxxxxxxxx"}\n' + "".join(
        f"@string{{a{i} = a{i - 1} # a{i - 1}}}\n" for i in range(1, 40)
    )
    return ["add", str(_bib(folder / "bomb.bib", macros + "@article{k, title={Bomb}, "
                            "year=2020, abstract=a39}\n"))]  # fmt: skip


def _atom_deep(folder: Path) -> list[str]:
    deep = "<b>" * 50_000 + "x" + "</b>" * 50_000
    path = folder / "deep.xml"
    path.write_text('<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/'
                    "2301.00001</id><published>2023-01-01T00:00:00Z</published><title>T</title>"
                    f"<summary>{deep}</summary></entry></feed>", encoding="utf-8")  # fmt: skip
    return ["add", str(path)]


def _long_title(folder: Path) -> list[str]:
    """2 MB of title ending in a version number: the versioned-name rule must not backtrack."""
    return ["add", str(_jsonl(folder / "long.jsonl", {"title": "Model " + "a" * 2_000_000 + " 2",
                                                      "year": 2023}))]  # fmt: skip


def _invisible_title(folder: Path) -> list[str]:
    return ["add", str(_jsonl(folder / "zw.jsonl", {"title": "\u200b\u202e\u2066\ufeff",
                                                    "year": 2023}))]  # fmt: skip


def _device_link(folder: Path) -> list[str]:
    (folder / "zero.bib").symlink_to("/dev/zero")
    return ["add", str(folder / "zero.bib")]


def _wide_csv(folder: Path) -> list[str]:
    path = folder / "wide.csv"
    header = ",".join(f"c{i}" for i in range(200_000))
    path.write_text(f"title,year,{header}\nA,2020\n", encoding="utf-8")
    return ["add", str(path)]


def _unterminated_csv(folder: Path) -> list[str]:
    path = folder / "bad.csv"
    path.write_text('title,year\n"unterminated,2020\n', encoding="utf-8")
    return ["add", str(path)]


def _impossible_dates(folder: Path) -> list[str]:
    return ["add", str(_jsonl(folder / "dates.jsonl", {"title": "A", "year": "9999-99"}))]


def _escape_codes_in_a_name(folder: Path) -> list[str]:
    return ["papers", "--author", "\x1b]0;pwned\x07\x1b[2J" + "Zq" * 5000]


def _export_to_a_device(folder: Path) -> list[str]:
    return ["export", "--format", "json", "-o", "/dev/full"]


ATTACKS: dict[str, tuple[Callable[[Path], list[str]], int, str]] = {
    "bibtex-string-bomb": (_string_bomb, 0, "1 added"),
    "atom-nested-50000-deep": (_atom_deep, 0, "1 added"),
    "2mb-title-ending-in-a-version": (_long_title, 0, "1 added"),
    "title-of-invisible-characters": (_invisible_title, 2, "zw.jsonl:1: has no title"),
    "link-to-dev-zero": (_device_link, 2, "is a character device, not a regular file"),
    "csv-with-200000-columns": (_wide_csv, 0, "1 added"),
    "csv-unterminated-quote": (_unterminated_csv, 2, "bad.csv:1: malformed CSV"),
    "impossible-date": (_impossible_dates, 2, "date '9999-99' is not a date"),
    "escape-codes-in-a-10000-char-name": (_escape_codes_in_a_name, 2, "no author"),
    "export-to-dev-full": (_export_to_a_device, 2, "/dev/full is a character device"),
}


@pytest.mark.parametrize("name", ATTACKS)
def test_a_new_hostile_input_is_read_or_refused_in_one_line(tmp_path: Path, name: str) -> None:
    make, code, says = ATTACKS[name]
    done = _kgrag(tmp_path / "data", *make(tmp_path))
    out = done.stdout + done.stderr
    assert done.returncode == code, out[-2000:]
    assert says in out and "Traceback" not in out
    assert "\x1b" not in out and "\x07" not in out  # the terminal gets no escape sequence
    if code:
        assert done.stderr.startswith("kgrag: error: ") and done.stderr.count("\n") == 1


@pytest.mark.parametrize("odd", ["device-link", "folder"])
def test_a_library_that_is_no_file_is_an_error_not_the_shipped_list(
    tmp_path: Path, odd: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    if odd == "folder":
        (data / "library.jsonl").mkdir()
    else:
        (data / "library.jsonl").symlink_to("/dev/zero")
    done = _kgrag(data, "papers")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"kgrag: error: {data / 'library.jsonl'}: is a ")


def test_a_data_folder_whose_place_holds_a_file_is_named(tmp_path: Path) -> None:
    taken = tmp_path / "data"
    taken.write_text("not a folder", encoding="utf-8")
    entry = _bib(tmp_path / "ok.bib", "@article{a, title={T}, year=2020}\n")
    done = _kgrag(taken, "add", str(entry))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr == (f"kgrag: error: cannot use {taken} as the data folder (File exists). "
                           "Point KGRAG_DATA_DIR at a folder.\n")  # fmt: skip


def test_one_title_repeated_in_a_file_is_added_in_linear_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each repeat merges into the first; 8x the entries cost about 8x (quadratic was 60x+)."""
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    seconds = {}
    for count in (1_000, 8_000):
        rows = [{"title": "Same Title", "year": 2023, "abstract": f"run {i}"} for i in range(count)]
        path = _jsonl(tmp_path / f"same-{count}.jsonl", *rows)
        start = time.perf_counter()
        report = add_files([path], dry_run=True)
        seconds[count] = time.perf_counter() - start
        assert [len(report.of(a)) for a in ("added", "merged")] == [1, count - 1]
    assert seconds[8_000] / seconds[1_000] < 20, seconds
