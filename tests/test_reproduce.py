"""``mgc reproduce`` (and :mod:`mgc_helpers.book.execute`) on tiny notebooks made in tmp_path: injection, failures,
staging, CLI."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mgc_helpers.book import execute as E
from mgc_helpers.book import reproduce as R
from mgc_helpers.commands import cli
from mgc_helpers.core import compute

KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def write_notebook(path: Path, cells) -> Path:
    nb = new_notebook(metadata=KERNELSPEC)
    nb.cells = cells
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def params_cell(source: str):
    return new_code_cell(source, metadata={"tags": ["parameters"]})


@pytest.fixture
def book_root(tmp_path) -> Path:
    """A miniature checkout: config, toc with two chapters and a page, notebooks."""
    root = tmp_path / "book-src"
    (root / "book").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'tiny'\n")
    (root / "_config.yml").write_text("title: tiny\nexecute:\n  execute_notebooks: 'off'\n"
                                      "only_build_toc_files: true\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n"
                                   "  - file: notebooks/02_plain\n  - file: notebooks/01_params\n")
    (root / "book" / "intro.md").write_text("# Tiny\n\nA test book.\n")
    (root / "references.bib").write_text("")
    write_notebook(root / "notebooks" / "01_params.ipynb", [
        new_markdown_cell("# 1. Parameters"),
        params_cell('dataset = "synthetic"\nprofile = None\nresults_dir = None\nseed = 0'),
        new_code_cell("import os, pathlib\n"
                      "pathlib.Path(results_dir).mkdir(parents=True, exist_ok=True)\n"
                      "(pathlib.Path(results_dir) / 'seen.txt').write_text(f'{profile} {seed} {dataset}')\n"
                      "print(profile, seed, os.environ['MGC_PROFILE'])"),
    ])
    write_notebook(root / "notebooks" / "02_plain.ipynb", [
        new_markdown_cell("# 2. Plain"), new_code_cell("print('no parameters here')")])
    write_notebook(root / "notebooks" / "99_unlisted.ipynb", [new_code_cell("raise SystemExit('never run')")])
    return root


def test_list_and_select_notebooks(book_root):
    chapters = R.list_notebooks(book_root)
    assert [p.name for p in chapters] == ["01_params.ipynb", "02_plain.ipynb"]  # toc entries, chapter order
    assert [p.name for p in R.select_notebooks(chapters, "2")] == ["02_plain.ipynb"]
    assert [p.name for p in R.select_notebooks(chapters, "02_plain,01")] == ["01_params.ipynb", "02_plain.ipynb"]
    with pytest.raises(E.ReproduceError, match=r"no chapter matches '07'.*01_params, 02_plain"):
        R.select_notebooks(chapters, "07")


def test_missing_toc_notebook_is_an_error(book_root):
    (book_root / "notebooks" / "02_plain.ipynb").unlink()
    with pytest.raises(E.ReproduceError, match="lists notebooks/02_plain"):
        R.list_notebooks(book_root)


def test_declared_parameters_and_injection(book_root):
    declared = E.notebook_parameters(book_root / "notebooks" / "01_params.ipynb")
    assert declared == {"dataset": "'synthetic'", "profile": "None", "results_dir": "None", "seed": "0"}
    assert E.notebook_parameters(book_root / "notebooks" / "02_plain.ipynb") == {}
    values = {"dataset": "gtzan", "profile": "quick", "epochs": 3, "seed": 2, "data_dir": None}
    assert E.injected_parameters(declared, values) == {"dataset": "gtzan", "profile": "quick", "seed": 2}
    assert E.injected_parameters({}, values) == {}


def test_reproduce_runs_injects_and_records(book_root, tmp_path):
    out = tmp_path / "out"
    lines: list[str] = []
    result = R.reproduce(profile="quick", seed=3, out=out, book=False, root=book_root, log=lines.append)
    assert [r.source.name for r in result.runs] == ["01_params.ipynb", "02_plain.ipynb"]
    assert result.runs[0].parameters == {"dataset": "synthetic", "profile": "quick", "seed": 3,
                                         "results_dir": str(out.resolve())}
    assert result.runs[1].parameters == {}
    assert (out / "seen.txt").read_text() == "quick 3 synthetic"
    executed = nbformat.read(str(out / "notebooks" / "01_params.ipynb"), as_version=4)
    tags = [c.metadata.get("tags", []) for c in executed.cells]
    assert ["injected-parameters"] in tags
    assert executed.cells[-1].outputs[0]["text"] == "quick 3 quick\n"
    plain = nbformat.read(str(out / "notebooks" / "02_plain.ipynb"), as_version=4)
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in plain.cells)
    assert any(line.startswith("[1/2] 01_params.ipynb done in") for line in lines)
    record = json.loads((out / "reproduce.json").read_text())
    assert [n["name"] for n in record["notebooks"]] == ["01_params.ipynb", "02_plain.ipynb"]
    assert record["profile"]["name"] == "quick"
    # the stored notebooks are untouched without --update-stored
    stored = nbformat.read(str(book_root / "notebooks" / "01_params.ipynb"), as_version=4)
    assert all(not c.get("outputs") for c in stored.cells if c.cell_type == "code")


def test_update_stored_keeps_the_notebooks_own_parameters_and_stamps_them(book_root, tmp_path):
    R.reproduce(profile="default", out=tmp_path / "out", notebooks="01", book=False, update_stored=True,
                root=book_root, log=lambda _: None)
    stored = nbformat.read(str(book_root / "notebooks" / "01_params.ipynb"), as_version=4)
    assert len(stored.cells) == 3  # no injected cell
    assert stored.cells[1].source.startswith('dataset = "synthetic"')
    assert stored.cells[2].outputs[0]["text"].startswith("default 0")
    assert "papermill" not in stored.metadata
    assert all("papermill" not in c.metadata for c in stored.cells)
    record = stored.metadata["mgc_book"]
    assert record["parameters"] == {"dataset": "synthetic", "profile": "default", "epochs": None, "seed": 0}
    assert {"code", "modules"} <= set(record["fingerprint"]) and "keras" in record["versions"]
    assert record["cpu"]["cores"] >= 1
    assert record["kernels"] == {"onednn": compute.onednn_enabled()}


@pytest.mark.parametrize("kwargs", [{"profile": "quick"}, {"profile": "default", "epochs": 3},
                                    {"profile": "default", "seed": 1}, {"profile": "default", "dataset": "gtzan"}])
def test_update_stored_refuses_anything_but_the_default_run(book_root, tmp_path, kwargs):
    with pytest.raises(E.ReproduceError, match="default run only"):
        R.reproduce(out=tmp_path / "out", book=False, update_stored=True, root=book_root, log=lambda _: None,
                    **kwargs)


@pytest.mark.parametrize("value", ["0", "false"])
def test_update_stored_refuses_tensorflow_kernels_other_than_the_projects(book_root, tmp_path, monkeypatch, value):
    monkeypatch.setattr(compute, "ONEDNN", True)
    monkeypatch.setenv(compute.ONEDNN_ENV, value)
    with pytest.raises(E.ReproduceError, match=f"{compute.ONEDNN_ENV}={value} .* oneDNN kernels off"):
        R.reproduce(profile="default", out=tmp_path / "out", notebooks="01", book=False, update_stored=True,
                    root=book_root, log=lambda _: None)


def test_default_results_folder_is_named_after_the_run(book_root, tmp_path):
    result = R.reproduce(profile="quick", epochs=2, seed=1, notebooks="01", book=False, root=book_root,
                         log=lambda _: None)
    assert result.out == book_root / "results" / "quick-epochs2-seed1"
    record = json.loads((result.out / "reproduce.json").read_text())
    versions = set(record["versions"])
    assert {"keras", "librosa", "numpy", "scipy", "scikit-learn", "soundfile", "libsndfile"} <= versions
    assert {"tensorflow", "tensorflow-cpu"} & versions
    assert record["cpu_model"] and record["cpus"] >= 1
    assert record["kernels"] == {"onednn": compute.onednn_enabled()}


def test_failing_cell_names_notebook_and_cell(book_root, tmp_path):
    write_notebook(book_root / "notebooks" / "01_params.ipynb", [
        new_markdown_cell("# 1. Broken"),
        params_cell("seed = 0"),
        new_code_cell("x = 1"),
        new_markdown_cell("text"),
        new_code_cell("# divide\nx / 0"),
        new_code_cell("print('not reached')"),
    ])
    with pytest.raises(E.NotebookFailed) as info:
        R.reproduce(profile="quick", out=tmp_path / "out", book=False, root=book_root, log=lambda _: None)
    exc = info.value
    assert exc.notebook.name == "01_params.ipynb"
    assert exc.cell_index == 4  # index in the source notebook, despite papermill's inserted cells
    assert exc.error.startswith("ZeroDivisionError")
    assert exc.source_line == "# divide"
    assert "01_params.ipynb failed at cell 4" in str(exc)
    assert exc.executed.is_file()


def test_cli_reports_failure_with_notebook_and_cell(book_root, tmp_path, monkeypatch, capsys):
    write_notebook(book_root / "notebooks" / "02_plain.ipynb", [new_code_cell("raise ValueError('bad input')")])
    monkeypatch.chdir(book_root)
    code = cli.main(["reproduce", "--profile", "quick", "--no-book", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1
    assert "02_plain.ipynb failed at cell 0" in err and "ValueError: bad input" in err


def test_cli_bad_selection_is_a_clean_error(book_root, monkeypatch, capsys):
    monkeypatch.chdir(book_root)
    assert cli.main(["reproduce", "--notebooks", "42", "--no-book"]) == 2
    assert "no chapter matches '42'" in capsys.readouterr().err


def test_stage_book_layout(book_root, tmp_path):
    executed = write_notebook(tmp_path / "run" / "01_params.ipynb", [
        new_markdown_cell("# 1. Executed"),
        new_code_cell("profile = 'quick'", metadata={"tags": ["injected-parameters"]})])
    staging = R.stage_book(tmp_path / "stage", executed={"01_params.ipynb": executed}, root=book_root)
    names = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
    assert names == ["_config.yml", "_toc.yml", "book/intro.md", "notebooks/01_params.ipynb",
                     "notebooks/02_plain.ipynb", "notebooks/99_unlisted.ipynb", "references.bib"]
    staged = nbformat.read(str(staging / "notebooks" / "01_params.ipynb"), as_version=4)
    assert staged.cells[0].source == "# 1. Executed"
    assert "remove-cell" in staged.cells[1].metadata["tags"]  # local paths stay out of the book
    # staging again starts from scratch
    (staging / "stale.txt").write_text("x")
    R.stage_book(staging, executed={}, root=book_root)
    assert not (staging / "stale.txt").exists()


def test_clean_executed_strips_papermill_traces():
    nb = new_notebook(metadata={"papermill": {"duration": 1.0}, **KERNELSPEC})
    nb.cells = [new_code_cell("a = 1", metadata={"tags": ["parameters"]}),
                new_code_cell("a = 2", metadata={"tags": ["injected-parameters"]}),
                new_code_cell("print(a)", metadata={"papermill": {"duration": 0.1}})]
    clean = E.clean_executed(nb)
    assert [c.source for c in clean.cells] == ["a = 1", "print(a)"]
    assert "papermill" not in clean.metadata and "papermill" not in clean.cells[1].metadata
    assert len(nb.cells) == 3  # the original is not modified


def test_reproduce_builds_the_book_from_executed_notebooks(book_root, tmp_path):
    result = R.reproduce(profile="quick", out=tmp_path / "out", root=book_root, log=lambda _: None)
    assert result.index_html == tmp_path / "out" / "book" / "_build" / "html" / "index.html"
    page = (tmp_path / "out" / "book" / "_build" / "html" / "notebooks" / "01_params.html").read_text()
    assert "quick 0 quick" in page  # the executed output, not the empty stored cell


def test_failed_build_is_reported(book_root, tmp_path):
    (book_root / "book" / "intro.md").write_text("# Tiny\n\nA {cite}`nokey` reference.\n")
    with pytest.raises(E.ReproduceError, match=r"jupyter-book build .* failed"):
        R.build_book(R.stage_book(tmp_path / "stage", executed={}, root=book_root))


def test_chapters_07_to_09_run_at_the_same_time_and_are_recorded_in_order(book_root, tmp_path, monkeypatch):
    """07 waits for a file 08 writes: the run only finishes if the two kernels run side by side."""
    (book_root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n" + "".join(
        f"  - file: notebooks/{n}\n" for n in ("06_a", "07_b", "08_c", "09_d", "10_e")))
    wait = ("import pathlib, time\nflag = pathlib.Path(results_dir) / 'from-08'\n"
            "for _ in range(600):\n    if flag.exists(): break\n    time.sleep(0.2)\n"
            "assert flag.exists(), '08 did not run beside 07'")
    bodies = {"06_a": "x = 6", "07_b": wait, "08_c": "import pathlib\n(pathlib.Path(results_dir) / 'from-08').touch()",
              "09_d": "x = 9", "10_e": "x = 10"}
    for name, body in bodies.items():
        write_notebook(book_root / "notebooks" / f"{name}.ipynb",
                       [params_cell("results_dir = None"), new_code_cell(body)])
    assert [[p.name[:2] for p in w] for w in R.chapter_waves(R.list_notebooks(book_root))] == \
        [["06"], ["07", "08", "09"], ["10"]]
    write_notebook(book_root / "notebooks" / "09_d.ipynb", [params_cell("results_dir = None"), new_code_cell(
        "import os, pathlib\n(pathlib.Path(results_dir) / 'cwd-09').write_text(os.getcwd())")])
    # papermill's cwd= would os.chdir this test's process into the notebook folder and back, racing between
    # the side-by-side chapters (an unlucky order leaves it in notebooks/); its file handler may only
    # "change" to the folder the process is already in
    before, chdir, visited = os.getcwd(), os.chdir, set()
    monkeypatch.setattr(os, "chdir", lambda path: (visited.add(str(path)), chdir(path))[-1])
    result = R.reproduce(root=book_root, out=tmp_path / "out", book=False, jobs=2, log=lambda _: None)
    assert visited <= {before} and os.getcwd() == before
    assert Path((tmp_path / "out" / "cwd-09").read_text()) == (book_root / "notebooks").resolve()
    assert [r.source.name[:2] for r in result.runs] == ["06", "07", "08", "09", "10"]
    record = json.loads((tmp_path / "out" / "reproduce.json").read_text())
    assert [n["name"][:2] for n in record["notebooks"]] == ["06", "07", "08", "09", "10"]
