"""Every result-like number in the book's prose is computed by its own run (issue 22).

A *result-like number* is a decimal (``0.63``) or a percentage (``75 %``) in the prose: the markdown
cells of ``notebooks/*.ipynb`` and the pages ``book/*.md``. Each one must be

* **glued**: written as ``{glue:text}`name:.3f``` from a value the notebook computed (such a number
  is not literal text, so the scan never sees it);
* **a reference**, not a measurement: a section, equation or table of the paper ("section 7.5"), or a
  software version ("librosa 0.10");
* **a quote of the paper**: listed in :data:`PAPER_QUOTES` for that file, and found in the paper's
  text (:data:`PAPER_NUMBERS`);
* **a constant of the code**, a documented parameter: listed in :data:`CONSTANTS` for that file with
  an expression that reads it from ``mgc_helpers`` (or a library's default), which must give the
  number as written;
* **a derivation**: listed in :data:`DERIVED` for that file with the arithmetic that gives it from
  the settings (the bin spacing 22050 / 2048 = 10.77 Hz), which must give the number as written.

Code (inline or fenced) is not prose and is not scanned. Anything else fails the test, naming the
file, the cell and the sentence: a number a run does not produce has no place in the book.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAPER_TEXT = ROOT.parent / "shared" / "paper" / "jain-2021-irjet-music-genre-classification.txt"

#: Every decimal and percentage the paper states (its text in ``../shared/paper``, figures excluded),
#: as written there; :func:`test_paper_numbers_are_the_papers` checks this list against the text.
PAPER_NUMBERS: frozenset[str] = frozenset({
    "0.0001", "0.6024", "0.6795", "0.7443", "3.31", "1.12", "0.88", "2.5",
    "30%", "70%", "90%", "15%", "64%", "75%", "67.95%", "60.24%", "100%",
})

#: Decimals and percentages quoted from the paper, per prose file (notebook or page stem).
PAPER_QUOTES: dict[str, set[str]] = {
    "06_dataset": {"30%", "70%"},                                      # section 7.3, the split
    "07_mlp": {"30%", "70%"},                                          # section 7.3, the split
    "08_rnn_lstm": {"30%", "0.0001"},                                  # section 7.4
    "10_results": {"0.6024", "0.6795", "0.7443", "3.31", "1.12", "0.88"},  # Table 2
    "12_optimisers": {"0.0001"},                                       # section 7.4
    "fidelity": {"30%", "70%", "90%", "64%", "15%", "2.5", "0.0001",    # sections 7.3-8
                 "0.6024", "0.6795", "0.7443", "3.31", "1.12", "0.88"},  # Table 2
    "intro": {"30%", "70%", "0.6024", "0.6795", "0.7443", "3.31", "1.12", "0.88"},  # section 7.3, Table 2
}

#: Documented constants of the code, per file: ``{number as written: expression}``. The expression
#: is evaluated with ``mgc_helpers`` imported as ``mgc`` (and ``math``, ``inspect``); its value,
#: rounded to the digits written, must equal the number.
CONSTANTS: dict[str, dict[str, str]] = {
    "04_log_mel": {"6.4": "math.exp(27 * mgc.signal.spectral._SLANEY_LOGSTEP)"},  # Slaney
    "06_dataset": {
        "0.5": "mgc.signal.audio.PAD_TOLERANCE",
        "25%": "inspect.signature(mgc.data.splits.make_split).parameters['test_size'].default * 100",
        "20%": "inspect.signature(mgc.data.splits.make_split).parameters['valid_size'].default * 100",
    },
    "07_mlp": {
        "25%": "inspect.signature(mgc.data.splits.make_split).parameters['test_size'].default * 100",
        "20%": "inspect.signature(mgc.data.splits.make_split).parameters['valid_size'].default * 100",
        "0.3": "next(layer.rate for layer in mgc.models.networks.build_model('mlp_dropout').layers if hasattr(layer, 'rate'))",
    },
    "12_optimisers": {
        "0.001": "mgc.beyond.optimisers.USUAL_LEARNING_RATES['adam']",        # also Keras 3's default for AdaDelta, Adagrad
        "1.0": "mgc.beyond.optimisers.USUAL_LEARNING_RATES['adadelta']",
        "0.01": "mgc.beyond.optimisers.USUAL_LEARNING_RATES['sgd']",          # and Adagrad's
    },
    "bad_input": {"0.5": "mgc.signal.audio.PAD_TOLERANCE"},
    "fidelity": {
        "0.5": "mgc.signal.audio.PAD_TOLERANCE",
        "25%": "inspect.signature(mgc.data.splits.make_split).parameters['test_size'].default * 100",
        "20%": "inspect.signature(mgc.data.splits.make_split).parameters['valid_size'].default * 100",
        "60%": ("(1 - inspect.signature(mgc.data.splits.make_split).parameters['test_size'].default)"
                " * (1 - inspect.signature(mgc.data.splits.make_split).parameters['valid_size'].default) * 100"),
        "0.3": "next(layer.rate for layer in mgc.models.networks.build_model('mlp_dropout').layers if hasattr(layer, 'rate'))",
        "0.99": "inspect.signature(mgc.models.networks.keras.layers.BatchNormalization).parameters['momentum'].default",
    },
}

#: Derivations from the settings, per file: ``{number as written: expression}``, checked the same way.
DERIVED: dict[str, dict[str, str]] = {
    "01_waveform": {"4.5": "1000 / 220"},                                         # one period of A3, ms
    "02_fft": {"10.77": "22050 / 2048", "10.8": "22050 / 2048",                   # bin spacings
               "2.7": "22050 / 8192", "1.3": "22050 / 16384", "0.5": "22050 / 44100"},
    "03_stft": {"75%": "(1 - 512 / 2048) * 100", "2.4": "52920 / 22050",          # overlap; the loop, s
                "0.1": "2048 / 22050"},                                           # one frame, s
    "04_log_mel": {"10.8": "22050 / 2048"},                                       # bin spacing
    "05_mfcc": {"1.3%": "13 * 130 / (1025 * 130) * 100"},                         # MFCCs / power values
    "07_mlp": {"0.1": "1 / 10", "2.30": "math.log(10)", "9.2": "math.log(1e4)"},  # uniform guess; its loss
    "10_results": {"0.447": "math.sqrt(2 / 10)", "1.41": "math.sqrt(2)"},         # largest RMSE
    "11_predict": {"0.8": "4 / 5"},                                                # "four times out of five"
    "12_optimisers": {"0.1": "1 / 10"},                                            # chance
    "13_transfer": {                                                               # musicnn's patch vs a segment
        "2.992": "mgc.beyond.musicnn_input.PATCH_FRAMES * mgc.beyond.musicnn_input.HOP_LENGTH / mgc.beyond.musicnn_input.SR",
        "0.08": "10 * (mgc.beyond.musicnn.PATCH_SECONDS - mgc.beyond.musicnn_input.PATCH_FRAMES * mgc.beyond.musicnn_input.HOP_LENGTH / mgc.beyond.musicnn_input.SR)",
    },
    "14_retrieval": {"0.1": "1 / 10"},                                             # chance
    "fidelity": {"0.447": "math.sqrt(2 / 10)"},                                   # largest RMSE
}

#: A section, equation, table or figure of the paper, or a software version, right before the number.
REFERENCE = re.compile(
    r"(?:\b(?:[Ss]ection|[Ss]ections|[Ee]quation|[Ee]q\.|[Tt]able|[Ff]igure|[Vv]ersion|librosa|Python|"
    r"Keras|TensorFlow|jupyter-book|scikit-learn|libsndfile|NumPy|numpy)\s+)$")

#: A decimal or a percentage (``12 %``, ``12%``, ``12.5 %``), not inside a longer token.
NUMBER = re.compile(r"(?<![\w.\\^{])(\d+\.\d+(?:\s?%)?|\d+\s?%)(?![\w.]*\d)")

#: Inline roles ({glue:text}`...`, {cite}`...`, {doc}`...`), inline code and link targets.
INLINE_NOT_PROSE = re.compile(r"\{[\w:-]+\}`[^`]*`|`[^`]*`|\]\([^)]*\)|<[^>\n]*>")


@dataclass(frozen=True)
class Found:
    """One result-like number in the prose."""

    file: str      # notebook or page stem
    cell: int      # markdown cell index (0 for a page)
    number: str    # as written, spaces before % removed
    context: str   # the surrounding words

    def __str__(self) -> str:
        return f"{self.file} cell {self.cell}: {self.number!r} in ...{self.context}..."


def prose(text: str) -> str:
    """The prose of a MyST markdown text: fenced code and inline code, roles and link targets removed.

    A fence that opens a directive (```` ```{note} ````) keeps its content, which is prose; any other
    fence (```` ```bash ````, a plain ```` ``` ````) is code, up to its closing fence.

    >>> prose("a `0.5` b {glue:text}`x:.3f` c\\n```bash\\nmgc 0.25\\n```\\n```{note}\\nd 0.3\\n```")
    'a   b   c\\n\\n\\nd 0.3\\n'
    """
    out: list[str] = []
    stack: list[tuple[str, bool]] = []  # (fence, is code)
    for line in text.split("\n"):
        fence = re.match(r"^\s*(`{3,}|~{3,})(.*)$", line)
        if fence:
            marks, rest = fence.groups()
            if stack and marks.startswith(stack[-1][0][0]) and len(marks) >= len(stack[-1][0]) and not rest.strip():
                stack.pop()
                out.append("")
                continue
            if not (stack and stack[-1][1]):
                stack.append((marks, not rest.strip().startswith("{")))
                out.append("")
                continue
        if stack and stack[-1][1]:
            out.append("")
            continue
        if re.match(r"^\s*:[\w-]+:", line) or re.match(r"^\s*(?:\* )?- [\d., ]+$", line):
            # a directive's option line (:header-rows: 1), or a list-table cell of row or section numbers
            out.append("")
            continue
        out.append(INLINE_NOT_PROSE.sub(" ", line))
    return "\n".join(out)


def find_numbers(file: str, cell: int, text: str) -> Iterator[Found]:
    """The result-like numbers of one markdown text that are not references."""
    body = prose(text)
    for match in NUMBER.finditer(body):
        before = body[max(0, match.start() - 40):match.start()]
        if REFERENCE.search(before):
            continue
        context = " ".join(body[max(0, match.start() - 60):match.end() + 40].split())
        yield Found(file, cell, match.group(1).replace(" ", ""), context)


def prose_texts(root: Path = ROOT) -> Iterator[tuple[str, int, str]]:
    """``(file stem, cell index, markdown)`` of every markdown cell and every book page."""
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            if cell["cell_type"] == "markdown":
                yield path.stem, index, "".join(cell["source"])
    for path in sorted((root / "book").glob("*.md")):
        yield path.stem, 0, path.read_text(encoding="utf-8")


def _namespace() -> dict[str, object]:
    """``mgc`` (with every module the expressions name imported), ``math`` and ``inspect``."""
    import importlib
    import inspect

    import mgc_helpers as mgc

    for table in (CONSTANTS, DERIVED):
        for expressions in table.values():
            for dotted in re.findall(r"\bmgc((?:\.\w+)+)", " ".join(expressions.values())):
                parts = dotted.strip(".").split(".")
                for i in range(1, len(parts) + 1):  # packages and modules; stops at the first attribute
                    try:
                        importlib.import_module(".".join(["mgc_helpers", *parts[:i]]))
                    except ModuleNotFoundError:
                        break
    return {"mgc": mgc, "math": math, "inspect": inspect}


def _matches(number: str, value: float) -> bool:
    """Whether ``value`` written with the digits of ``number`` gives ``number``."""
    digits = number.rstrip("%").strip()
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    return f"{float(value):.{decimals}f}" == digits


def backed(found: Found, namespace: dict[str, object] | None = None) -> str | None:
    """Why ``found`` may stand in the prose, or ``None`` if nothing backs it."""
    if found.number in PAPER_QUOTES.get(found.file, set()):
        return "quote of the paper"
    for table, kind in ((CONSTANTS, "constant of the code"), (DERIVED, "derivation")):
        expression = table.get(found.file, {}).get(found.number)
        if expression is not None:
            value = eval(expression, namespace if namespace is not None else _namespace())
            if not _matches(found.number, value):
                raise AssertionError(f"{found}: {kind} {expression!r} gives {value}, not {found.number}")
            return kind
    return None


def unbacked(texts: Iterator[tuple[str, int, str]], namespace: dict[str, object] | None = None) -> list[Found]:
    """Every result-like number of ``texts`` that :func:`backed` cannot account for."""
    return [f for file, cell, text in texts for f in find_numbers(file, cell, text) if backed(f, namespace) is None]


# ---------------------------------------------------------------------------------------------- tests
def test_every_number_in_the_prose_is_computed_quoted_or_a_constant():
    missing = unbacked(prose_texts())
    assert not missing, ("result-like numbers that no run computes (glue them, or list a quote, constant or "
                         "derivation in tests/test_prose_numbers.py):\n" + "\n".join(map(str, missing)))


def test_a_planted_number_is_found(tmp_path):
    """The scan fails on an unbacked number, in a notebook's markdown cell or in a note inside it."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "book").mkdir()
    cells = [{"cell_type": "markdown", "source": ["On real clips the CNN was measured at 0.8137.\n"]},
             {"cell_type": "markdown", "source": ["```{note}\nIt wins 73 % of the time.\n```\n"]},
             {"cell_type": "code", "source": ["x = 0.25\n"]},
             {"cell_type": "markdown", "source": ["Glued: {glue:text}`acc:.3f`; code `0.5`; section 7.5.\n"]}]
    (tmp_path / "notebooks" / "99_planted.ipynb").write_text(json.dumps({"cells": cells}), encoding="utf-8")
    (tmp_path / "book" / "page.md").write_text("```bash\nmgc 0.25\n```\nmeasured 0.42 ± 0.03\n", encoding="utf-8")
    found = unbacked(prose_texts(tmp_path), namespace={})
    assert [(f.file, f.cell, f.number) for f in found] == [
        ("99_planted", 0, "0.8137"), ("99_planted", 1, "73%"), ("page", 0, "0.42"), ("page", 0, "0.03")]


def test_listed_numbers_are_still_in_the_prose():
    """A quote, constant or derivation listed for a file that no longer writes it is stale: remove it."""
    present: dict[str, set[str]] = {}
    for file, cell, text in prose_texts():
        present.setdefault(file, set()).update(f.number for f in find_numbers(file, cell, text))
    stale = [(file, number) for table in (PAPER_QUOTES, CONSTANTS, DERIVED) for file, numbers in table.items()
             for number in numbers if number not in present.get(file, set())]
    assert not stale, f"listed but not in the prose: {stale}"


def test_quotes_are_numbers_of_the_paper():
    quoted = {n for numbers in PAPER_QUOTES.values() for n in numbers}
    assert quoted <= PAPER_NUMBERS, f"not numbers of the paper: {sorted(quoted - PAPER_NUMBERS)}"


def _paper_numbers(text: str) -> set[str]:
    return {m.replace(" ", "") for m in re.findall(r"(?<![\w.])(\d+\.\d+(?:\s?%)?|\d+\s?%)", text)}


@pytest.mark.skipif(not PAPER_TEXT.is_file(), reason="the paper's text (../shared/paper) is not beside this checkout")
def test_paper_numbers_are_the_papers():
    """:data:`PAPER_NUMBERS` holds what the paper's text states, section numbers aside."""
    text = PAPER_TEXT.read_text(encoding="utf-8")
    stated = _paper_numbers(text)
    assert PAPER_NUMBERS <= stated, sorted(PAPER_NUMBERS - stated)


EXPRESSION_TABLES: list[tuple[str, Callable[[], dict[str, dict[str, str]]]]] = [
    ("constants", lambda: CONSTANTS), ("derivations", lambda: DERIVED)]


@pytest.mark.parametrize("name,table", EXPRESSION_TABLES, ids=[n for n, _ in EXPRESSION_TABLES])
def test_every_listed_expression_gives_its_number(name, table):
    namespace = _namespace()
    for file, numbers in table().items():
        for number, expression in numbers.items():
            value = eval(expression, namespace)
            assert _matches(number, value), f"{file}: {expression!r} gives {value}, not {number}"
