"""Hostile files and odd states (issue 19): each is one clear kgrag error that names the file,
the line or entry, and what to do. Never a traceback, a hang, or a changed library.

Every test goes through a real entry point (`read_source`, `add_files`, `load_library`,
`load_corpus`, the `kgrag` command) on real files: FIFOs, devices, folders, deep nesting,
wrong JSON types, control characters. A test that could hang or eat memory if the bug came back
runs under a time limit (a thread, or a subprocess with a memory cap), so it fails instead.
"""

from __future__ import annotations

import contextlib
import dataclasses
import doctest
import json
import os
import resource
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kg.corpus import SHIPPED_CORPUS, Paper, default_corpus_path, load_corpus
from kg.errors import KgragError, LibraryError, LimitError, ReaderError
from kg.library import add_files, load_library
from kg.readers import read_source

REPO = Path(__file__).resolve().parents[1]
PAPERS = REPO / "tests" / "fixtures" / "library" / "papers.jsonl"
KGRAG = Path(sys.executable).with_name("kgrag")  # the installed command, as a user runs it


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(folder: Path, name: str, *rows: object) -> Path:
    return _write(folder, name, "".join(json.dumps(r) + "\n" for r in rows))


def _within(seconds: float, call: Callable[[], object]) -> object:
    """`call()`'s result (or its exception), failing the test if it takes over `seconds`: a
    read that blocks (a FIFO) must fail the test, not hang the run."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s (blocked?)"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _unblock(fifo: Path) -> None:
    """Open the FIFO's other end, so that a reader stuck on it (a regression) is let go."""
    with contextlib.suppress(OSError):  # no reader waiting: nothing is stuck
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KGRAG_CORPUS", raising=False)
    monkeypatch.delenv("KGRAG_MAX_CORPUS_MB", raising=False)
    return tmp_path / "data"


@pytest.fixture
def library(data_dir: Path) -> Path:
    """A library holding the JSONL fixture's papers (its second line: Toolformer)."""
    add_files([PAPERS])
    return data_dir / "library.jsonl"


# --- 1. BibTeX nested hundreds deep ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("abstract", "{" * 300 + "deep" + "}" * 300),
        ("title", "\\textbf{" * 300 + "deep" + "}" * 300),
        ("abstract", "\\begin{itemize}" * 1000 + "deep" + "\\end{itemize}" * 1000),
        ("author", "{" * 300 + "Ann Lee" + "}" * 300),
    ],
    ids=["braces", "macros", "environments", "author"],
)
def test_bibtex_nested_hundreds_deep_is_an_error_naming_entry_and_field(
    tmp_path: Path, field: str, value: str
) -> None:
    fields = {"title": "T", "year": "2020", "abstract": "A", "author": "Lee, Ann", field: value}
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
    path = _write(tmp_path, "deep.bib", f"@misc{{ok, title={{Fine}}, year=2021}}\n\n"
                  f"@article{{deep,\n{body}\n}}\n")  # fmt: skip
    with pytest.raises(ReaderError) as caught:
        read_source(path)
    assert str(caught.value) == (
        f"{path}:3: entry 'deep': field {field!r} is nested too deeply to decode (braces, "
        "environments or math inside one another). Simplify it."
    )


# --- 2. JSONL nested 100,000 deep -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["auto", "jsonl"])
def test_a_jsonl_line_nested_100000_deep_is_an_error_naming_the_line(
    tmp_path: Path, fmt: str
) -> None:
    deep = '{"title": "B", "year": 2021, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = _write(tmp_path, "deep.jsonl", '{"title": "A", "year": 2020}\n' + deep + "\n")
    with pytest.raises(ReaderError, match=r"deep.jsonl:2: is not JSON \(nested too deeply"):
        read_source(path, fmt=fmt)
    first = _write(tmp_path, "first.jsonl", deep + "\n")  # judged JSONL all the same
    with pytest.raises(ReaderError, match=r"first.jsonl:1: is not JSON \(nested too deeply"):
        read_source(first, fmt=fmt)


def test_a_bare_array_nested_100000_deep_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "array.jsonl", "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ReaderError, match=r"array.jsonl:1: is not JSON \(nested too deeply"):
        read_source(path, fmt="jsonl")
    with pytest.raises(ReaderError, match="cannot tell its format"):
        read_source(path)  # not an object a line: no format claims it


# --- 3. JSONL fields of the wrong type -------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"authors": [["x", {}], None, 3]},
         "column 'authors' (authors) is a list holding a list, a number, null; it must be text "
         "or a list of text."),
        ({"title": {"en": "A"}}, "column 'title' (title) is an object; it must be text or a number."),
        ({"year": True}, "column 'year' (date) is true or false; it must be text or a number."),
        ({"keywords": {"a": 1}}, "column 'keywords' (keywords) is an object; it must be text or a "
         "list of text."),
        ({"doi": ["10.1/x"]}, "column 'doi' (doi) is a list holding text; it must be text or a number."),
        ({"organizations": [None]}, "column 'organizations' (organizations) is a list holding "
         "null; it must be text or a list of text."),
    ],
    ids=["authors", "title", "year", "keywords", "doi", "organizations"],
)  # fmt: skip
def test_a_jsonl_field_of_the_wrong_type_names_line_and_column(
    tmp_path: Path, row: dict[str, object], message: str
) -> None:
    path = _jsonl(tmp_path, "types.jsonl", {"title": "Fine", "year": 2020},
                  {"title": "A", "year": 2021, **row})  # fmt: skip
    with pytest.raises(ReaderError) as caught:
        read_source(path)
    entry = "" if "title" in row else "entry 'A': "
    assert str(caught.value) == f"{path}:2: {entry}{message}"


def test_jsonl_numbers_and_lists_of_text_are_read(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, "ok.jsonl", {"title": 1984, "year": 2021, "month": 6,
                                         "authors": ["Lee, Ann", "Bo Li"], "keywords": ["a", "b"],
                                         "abstract": None})  # fmt: skip
    (paper,) = read_source(path).papers
    assert (paper.title, paper.date, paper.authors, paper.keywords) == (
        "1984", "2021-06", ("Ann Lee", "Bo Li"), ("a", "b"),
    )  # fmt: skip


# --- 4. A hand-edited library.jsonl -----------------------------------------------------------


def _edit(record: dict[str, Any], **paper: object) -> dict[str, Any]:
    return {"paper": {**record["paper"], **paper}}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: json.dumps(_edit(r, authors=[["x", {}], None, 3])),
         "entry 'toolformer': not a library record (field 'authors' is not a list of text)"),
        (lambda r: json.dumps(_edit(r, title={"en": "x"})),
         "entry 'toolformer': not a library record (field 'title' is not text)"),
        (lambda r: json.dumps(_edit(r, line=True)),
         "entry 'toolformer': not a library record (field 'line' is not a whole number)"),
        (lambda r: json.dumps(_edit(r, provenance=[["title"]])),
         "entry 'toolformer': not a library record (field 'provenance' is not a list of "
         "[text, text] pairs)"),
        (lambda r: json.dumps(_edit(r, colour="red")),
         "entry 'toolformer': not a library record (unknown field 'colour')"),
        (lambda r: json.dumps(_edit(r, id="")),
         "entry 'Toolformer: Language Models Can Teach Themselves to Use Tools': not a library "
         "record (field 'id' is missing or empty)"),
        (lambda r: json.dumps({"paper": [1, 2]}),
         "not a library record (the paper is not an object {…})"),
        (lambda r: json.dumps([r]), 'not a library record (not {"paper": {…}} or {"removed": {…}})'),
        (lambda r: json.dumps({**r, "removed": {}}),
         'entry \'toolformer\': not a library record (not {"paper": {…}} or {"removed": {…}})'),
        (lambda r: json.dumps({"removed": {"id": "x", "title": 3, "keys": []}}),
         "entry 'x': not a library record (field 'title' is not text)"),
        (lambda r: json.dumps({"removed": {"id": "x"}}),
         'entry \'x\': not a library record (a removal is {"id": …, "title": …, "keys": […]})'),
        (lambda r: '{"paper": ' + "[" * 100_000 + "]" * 100_000 + "}",
         "not a library record (nested too deeply: arrays or objects inside one another)"),
        (lambda r: json.dumps(r)[:-2], "not a library record (Expecting ',' delimiter"),
    ],
    ids=["authors", "title", "line", "provenance", "unknown", "no-id", "not-object", "list",
         "two-kinds", "removal-type", "removal-shape", "deep", "cut"],
)  # fmt: skip
def test_a_hand_edited_library_line_is_an_error_naming_line_and_entry(
    library: Path, edit: Callable[[dict[str, Any]], str], message: str
) -> None:
    lines = library.read_text(encoding="utf-8").splitlines()
    lines[1] = edit(json.loads(lines[1]))
    library.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = library.read_bytes()
    expected = f"{library}:2: {message}"
    for command in (load_library, lambda: load_corpus(default_corpus_path()),
                    lambda: add_files([PAPERS])):  # fmt: skip
        with pytest.raises(LibraryError) as caught:
            command()
        assert str(caught.value).startswith(expected), str(caught.value)
        assert str(caught.value).endswith("Fix or delete that line (each line is one paper; "
                                          "adding its file again brings it back).")  # fmt: skip
    assert library.read_bytes() == before


def test_a_wrong_library_header_is_an_error(library: Path) -> None:
    lines = library.read_text(encoding="utf-8").splitlines()
    library.write_text("\n".join(['["kgrag-library v1"]', *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(LibraryError, match=r"library.jsonl:1: not a library record \(format None"):
        load_library()


def test_a_library_line_that_is_not_utf8_is_an_error(library: Path) -> None:
    library.write_bytes(library.read_bytes() + b'{"paper": {"id": "x\xff"}}\n')
    with pytest.raises(LibraryError, match=r"library.jsonl:5: is not UTF-8 text. Fix or delete"):
        load_library()


def test_two_library_lines_with_one_id_are_an_error(library: Path) -> None:
    lines = library.read_text(encoding="utf-8").splitlines()
    library.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(LibraryError) as caught:
        load_library()  # the next write would keep only one of them
    assert str(caught.value) == (
        f"{library}:5: entry 'toolformer': line 2 has the same id. Merge the two lines into one, "
        "or delete one."
    )


def test_every_paper_field_has_a_library_shape() -> None:
    """A new `Paper` field needs its JSON shape, or every library line holding it fails."""
    from kg.library.store import _PAPER_FIELDS, _SHAPES

    assert {f.name for f in dataclasses.fields(Paper)} == set(_PAPER_FIELDS)
    assert set(_PAPER_FIELDS.values()) <= set(_SHAPES)


# --- 5. FIFOs, devices, folders, files too large ----------------------------------------------


def test_adding_a_fifo_is_refused_at_once(tmp_path: Path, data_dir: Path) -> None:
    fifo = tmp_path / "refs.bib"
    os.mkfifo(fifo)
    try:
        for call in (lambda: read_source(fifo), lambda: add_files([fifo], dry_run=True)):
            with pytest.raises(ReaderError) as caught:
                _within(10, call)
            assert str(caught.value) == (
                f"{fifo}: is a FIFO (named pipe), not a regular file; kgrag reads only regular "
                "files. Give the path of a file."
            )
    finally:
        _unblock(fifo)
    assert not (data_dir / "library.jsonl").exists()


@pytest.mark.parametrize(("path", "kind"), [("/dev/null", "a character device"),
                                            (".", "a folder")])  # fmt: skip
def test_a_device_or_a_folder_is_refused(path: str, kind: str) -> None:
    with pytest.raises(ReaderError, match=f"is {kind}, not a regular file"):
        read_source(path)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.bib"
    with big.open("wb") as handle:
        handle.truncate(2_000_000)  # sparse: 2 MB without writing them
    monkeypatch.setenv("KGRAG_MAX_CORPUS_MB", "1")

    def no_open(*args: object) -> int:
        raise AssertionError("the file was opened")

    monkeypatch.setattr("kg.limits.os.open", no_open)
    with pytest.raises(LimitError) as caught:
        read_source(big)
    assert str(caught.value) == (
        f"{big} is over 1 MB, the limit for a file to add; split it, or set KGRAG_MAX_CORPUS_MB "
        "to raise the limit."
    )


def test_a_file_that_grows_while_read_is_cut_at_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size checked first is out of date by the time of the read: the read itself stops one
    byte past the limit."""
    grows = tmp_path / "grows.jsonl"
    grows.write_bytes(b"x" * 300_000)
    monkeypatch.setenv("KGRAG_MAX_CORPUS_MB", "0.1")
    stat = os.stat

    def stale(path: object, *args: Any, **kwargs: Any) -> os.stat_result:
        status = stat(path, *args, **kwargs)  # type: ignore[arg-type]
        return os.stat_result((*status[:6], 10, *status[7:10]))  # st_size: 10 bytes

    monkeypatch.setattr("kg.limits.os.stat", stale)
    with pytest.raises(LimitError, match="over 0.1 MB, the limit for a file to add"):
        read_source(grows)


@pytest.mark.parametrize("odd", ["library.jsonl", "library.jsonl.lock"])
def test_a_fifo_in_the_library_s_place_is_refused_at_once(data_dir: Path, odd: str) -> None:
    data_dir.mkdir(parents=True)
    fifo = data_dir / odd
    os.mkfifo(fifo)
    try:
        with pytest.raises(LibraryError, match=f"{odd}"):
            _within(10, lambda: add_files([PAPERS]))
    finally:
        _unblock(fifo)
    assert sorted(p.name for p in data_dir.iterdir()) == sorted({"library.jsonl.lock", odd})


def test_a_folder_in_the_library_s_place_is_an_error(data_dir: Path) -> None:
    (data_dir / "library.jsonl").mkdir(parents=True)
    with pytest.raises(LibraryError, match="library.jsonl: is a folder, not a regular file"):
        load_library()


# --- 6. An add past the corpus size limit -----------------------------------------------------


def test_an_add_past_the_corpus_limit_is_refused_and_writes_nothing(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _big(tmp_path)
    # the paper list under the library is read under the same limit: leave it a little room
    limit = f"{(SHIPPED_CORPUS.stat().st_size + 2_000) / 1e6:.6f}"
    monkeypatch.setenv("KGRAG_MAX_CORPUS_MB", limit)
    before = library.read_bytes()
    for dry_run in (True, False):
        with pytest.raises(LimitError) as caught:
            add_files(files, dry_run=dry_run)
        assert str(caught.value).startswith(f"adding these papers would make {library} ")
        assert "nothing was added. Add fewer papers, or set KGRAG_MAX_CORPUS_MB" in str(
            caught.value
        )
    assert library.read_bytes() == before
    assert len(load_corpus(default_corpus_path()).papers) == 28  # every command still works
    # what was refused is what every command would then have refused to read
    monkeypatch.delenv("KGRAG_MAX_CORPUS_MB")
    add_files(files)
    monkeypatch.setenv("KGRAG_MAX_CORPUS_MB", limit)
    with pytest.raises(LimitError, match="KGRAG_MAX_CORPUS_MB"):
        load_corpus(default_corpus_path())


# --- 7. Format detection of long lines; CSV fields over 128 KB --------------------------------


@pytest.mark.parametrize("name", ["long.jsonl", "long.txt"])
def test_a_jsonl_file_whose_first_line_is_over_20kb_is_read_as_jsonl(
    tmp_path: Path, name: str
) -> None:
    path = _jsonl(tmp_path, name, {"title": "A, with a comma", "year": 2020, "abstract": "x" * 30_000},
                  {"title": "B", "year": 2021})  # fmt: skip
    result = read_source(path)
    assert result.format == "jsonl" and [p.title for p in result.papers] == ["A, with a comma", "B"]
    assert len(result.papers[0].abstract) == 30_000


def test_a_csv_field_over_the_csv_module_s_limit_is_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "long.csv", f'title,year,abstract\nA,2020,"{"y" * 200_000}"\nB,2021,b\n'
    )
    result = read_source(path)
    assert result.format == "csv" and len(result.papers[0].abstract) == 200_000


# --- 8. Control characters --------------------------------------------------------------------

HOSTILE = "\x00\x1b[31m\u202e\x90\x7f"  # NUL, a colour escape, a bidi override, C1 DCS, DEL


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.jsonl", json.dumps({"title": f"Mam{HOSTILE}ba", "year": 2023, "venue": "\ud800X",
                                "authors": [f"Albert{HOSTILE} Gu"], "abstract": "a\tb\nc\x07"}) + "\n"),
        ("c.bib", f"@article{{mamba,\n title={{Mam{HOSTILE}ba}},\n author={{Gu, Albert{HOSTILE}}},"
                  f"\n year=2023, journal={{X}}, abstract={{a\tb\x07}}\n}}\n"),
        ("c.csv", f'title,year,authors,venue\n"Mam{HOSTILE}ba",2023,"Albert{HOSTILE} Gu",X\x07\n'),
        ("c.xml", '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/'
                  "2312.00752v1</id><published>2023-12-01T00:00:00Z</published><title>Mam&#x202E;"
                  "&#x90;ba</title><author><name>Albert&#x2066; Gu</name></author></entry></feed>"),
    ],
    ids=["jsonl", "bibtex", "csv", "arxiv"],
)  # fmt: skip
def test_control_characters_are_removed_and_reported(
    data_dir: Path, tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    (paper,) = read_source(path).papers
    assert paper.title == "Mamba" and paper.authors == ("Albert Gu",)
    report = add_files([path])
    (outcome,) = report.outcomes
    assert "control character" in outcome.reason and "title" in outcome.reason
    (note,) = report.notes
    assert note.startswith(f"{name}:") and "(title " in note and "authors " in note
    stored = load_corpus(default_corpus_path()).by_id()[outcome.id]
    assert stored.title == "Mamba" and stored.authors == ("Albert Gu",)


def test_the_exports_stay_valid_xml(data_dir: Path, tmp_path: Path) -> None:
    import networkx as nx

    from kg.export import export
    from kg.graph import build_graph

    row = {"title": f"Evil{HOSTILE} paper", "year": 2023, "authors": [f"Eve{HOSTILE} Doe"],
           "keywords": [f"k{HOSTILE}"], "abstract": f"An{HOSTILE} abstract.", "venue": "V\x0c"}  # fmt: skip
    report = add_files([_jsonl(tmp_path, "evil.jsonl", row)])
    graph = build_graph(report.corpus)
    for fmt in ("graphml", "gexf"):
        out = export(graph, fmt, tmp_path / f"g.{fmt}")
        ET.parse(out)  # raises on an invalid character
    back = nx.read_graphml(tmp_path / "g.graphml")
    assert back.nodes["paper:evil-paper"]["label"] == "Evil paper"


def test_the_offsets_into_a_cleaned_abstract_move_with_it(tmp_path: Path) -> None:
    text = ("基座\n\nA: b\n\n发布时间:2023.05\n\n发表单位:Meta\n\n影响力:x\n\n"
            "摘要:first\x00 part of it here, a long\x1b[1m enough paragraph.\n\n"
            "https://example.com/second\x7f part.\n")  # fmt: skip
    (paper,) = read_source(_write(tmp_path, "list.txt", text)).papers
    assert paper.abstract == ("first part of it here, a long enough paragraph.\n"
                              "https://example.com/second part.")  # fmt: skip
    (_, first), (second, line) = paper.abstract_spans
    assert paper.abstract[second:].startswith("https://") and (first, line) == (11, 13)


def test_a_title_made_only_of_control_characters_is_an_error(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, "blank.jsonl", {"title": "\x1b[2J\x00", "year": 2020})
    with pytest.raises(ReaderError, match=r"blank.jsonl:1: has a title made only of control"):
        read_source(path)


def test_a_paper_list_with_control_characters_loads_clean(tmp_path: Path) -> None:
    text = SHIPPED_CORPUS.read_text(encoding="utf-8").replace("Llama 2", "Llama\x00\u202e 2")
    corpus = load_corpus(_write(tmp_path, "list.txt", text))
    assert "Llama 2: Open Foundation and Fine-Tuned Chat Models" in [p.title for p in corpus.papers]


def test_an_older_library_holding_control_characters_loads_clean(library: Path) -> None:
    lines = library.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[1])
    record["paper"]["title"] = "Tool\u0000former\ud800"
    lines[1] = json.dumps(record)
    library.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert load_library().papers[0].title == "Toolformer"
    add_files([PAPERS])  # and the next write is valid UTF-8 again
    library.read_bytes().decode("utf-8")


def test_strip_controls_keeps_text_and_its_layout() -> None:
    import kg.controls
    from kg.controls import strip_controls

    assert doctest.testmod(kg.controls).failed == 0
    text = "Ré\tsumé\r\n中文 — 👩‍💻 ‏עברית‎"  # tab, CR LF, accents, a ZWJ emoji, RLM / LRM
    assert strip_controls(text) == (text, 0)


# --- the command line -------------------------------------------------------------------------


def _cap_memory() -> None:
    """A regression reading /dev/zero whole fails with MemoryError, not by filling the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def _kgrag(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("KGRAG_CORPUS", "KGRAG_DEBUG")}
    environ.update({"KGRAG_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1", **env})
    return subprocess.run(
        [str(KGRAG), *args], cwd=REPO, env=environ, capture_output=True, text=True, timeout=60,
        preexec_fn=_cap_memory,
    )  # fmt: skip


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "refs.bib")
    return folder / "refs.bib"


def _deep_bib(folder: Path) -> Path:
    return _write(folder, "deep.bib", "@article{x,\n title={T}, year=2020,\n abstract={"
                  + "{" * 300 + "}" * 300 + "}\n}\n")  # fmt: skip


def _deep_jsonl(folder: Path) -> Path:
    return _write(folder, "deep.jsonl", '{"title": ' + "[" * 100_000 + "]" * 100_000 + "}\n")


def _types(folder: Path) -> Path:
    return _jsonl(
        folder, "types.jsonl", {"title": "A", "year": 2020, "authors": [["x", {}], None, 3]}
    )


def _big(folder: Path) -> list[Path]:
    """Two files of 20 KB, that bring 40 KB to the library (the shipped list is 32 KB)."""
    rows = [
        {"title": f"Long paper {i}", "year": 2020, "abstract": "word " * 2000} for i in range(4)
    ]
    return [_jsonl(folder, "big-a.jsonl", *rows[:2]), _jsonl(folder, "big-b.jsonl", *rows[2:])]


@pytest.mark.parametrize(
    ("make", "env", "says"),
    [
        (_fifo, {}, "refs.bib: is a FIFO (named pipe), not a regular file"),
        (lambda folder: Path("/dev/zero"), {}, "/dev/zero: is a character device"),
        (_deep_bib, {}, "deep.bib:1: entry 'x': field 'abstract' is nested too deeply"),
        (_deep_jsonl, {}, "deep.jsonl:1: is not JSON (nested too deeply"),
        (_types, {}, "types.jsonl:1: entry 'A': column 'authors' (authors) is a list holding"),
        (_big, {"KGRAG_MAX_CORPUS_MB": "0.035"}, "library.jsonl 0.0"),
    ],
    ids=["fifo", "dev-zero", "deep-bib", "deep-jsonl", "types", "corpus-limit"],
)  # fmt: skip
def test_cli_add_of_a_hostile_file_is_one_line_and_changes_nothing(
    tmp_path: Path, make: Callable[[Path], Path | list[Path]], env: dict[str, str], says: str
) -> None:
    data = tmp_path / "data"
    seeded = _kgrag(data, "add", str(PAPERS))
    assert seeded.returncode == 0, seeded.stderr
    before = (data / "library.jsonl").read_bytes()
    made = make(tmp_path)
    paths = made if isinstance(made, list) else [made]
    try:
        for dry_run in ((), ("--dry-run",)):
            done = _kgrag(data, "add", *map(str, paths), *dry_run, **env)
            assert done.returncode == 2 and done.stdout == ""
            assert done.stderr.startswith("kgrag: error: ") and done.stderr.count("\n") == 1
            assert says in done.stderr and "Traceback" not in done.stderr
    finally:
        for path in paths:
            if path.is_fifo():
                _unblock(path)
    assert (data / "library.jsonl").read_bytes() == before


@pytest.mark.parametrize("odd", ["fifo", "/dev/zero", "/dev/null"])
def test_a_paper_list_that_is_no_regular_file_is_refused_at_once(tmp_path: Path, odd: str) -> None:
    """`--corpus` / `KGRAG_CORPUS` naming a FIFO or a device: every command says so at once."""
    path = Path(odd) if odd.startswith("/") else tmp_path / "list.txt"
    if odd == "fifo":
        os.mkfifo(path)
    try:
        for args, env in ((("papers", "--corpus", str(path)), {}),
                          (("stats",), {"KGRAG_CORPUS": str(path)})):  # fmt: skip
            done = _kgrag(tmp_path / "data", *args, **env)
            assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
            assert done.stderr.startswith(f"kgrag: error: {path}: is a ")
            assert "not a regular file" in done.stderr
    finally:
        if odd == "fifo":
            _unblock(path)


def test_cli_names_a_broken_library_line_in_every_command(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _kgrag(data, "add", str(PAPERS)).returncode == 0
    library = data / "library.jsonl"
    lines = library.read_text(encoding="utf-8").splitlines()
    lines[1] = json.dumps(_edit(json.loads(lines[1]), authors=[["x", {}], None, 3]))
    library.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = library.read_bytes()
    for args in (("papers",), ("add", str(PAPERS)), ("remove", "toolformer"), ("authors",)):
        done = _kgrag(data, *args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr == (
            f"kgrag: error: {library}:2: entry 'toolformer': not a library record (field "
            "'authors' is not a list of text). Fix or delete that line (each line is one paper; "
            "adding its file again brings it back).\n"
        )
    assert library.read_bytes() == before


def test_cli_add_reports_the_control_characters_it_removed(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, "c.jsonl", {"title": f"Mam{HOSTILE}ba", "year": 2023})
    done = _kgrag(tmp_path / "data", "add", str(path))
    assert done.returncode == 0, done.stderr
    assert "removed 5 control characters (title 5)" in done.stdout
    assert "\x1b" not in done.stdout and "\x00" not in done.stdout


def test_hostile_errors_are_kgrag_errors() -> None:
    assert all(issubclass(e, KgragError) for e in (ReaderError, LibraryError, LimitError))
