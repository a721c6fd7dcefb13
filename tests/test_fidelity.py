"""The fidelity page (``book/fidelity.md``): well-formed rows, valid statuses, a summary that counts right."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "book" / "fidelity.md").read_text(encoding="utf-8")
STATUSES = ("as stated", "chosen", "deviates")


def rows() -> list[tuple[int, str, str, str, str]]:
    table = PAGE.split("```{list-table}", 1)[1].split("```", 1)[0]
    found = re.findall(r"^\* - (\d+)\n  - (.*)\n  - (.*)\n  - (.*)\n  - (.*)$", table, flags=re.M)
    return [(int(n), where, paper, book, status) for n, where, paper, book, status in found]


def test_rows_are_numbered_and_every_status_is_one_of_three():
    found = rows()
    assert [r[0] for r in found] == list(range(1, len(found) + 1))
    assert len(found) >= 40
    assert {r[4] for r in found} <= set(STATUSES)
    for number, where, paper, book, status in found:
        assert paper and book and where, number
        if status == "chosen":  # a choice says what was chosen where the paper is silent or open
            assert "not stated" in paper or "not" in book or "silent" in book, number


def test_summary_sentence_counts_the_rows():
    counts = Counter(r[4] for r in rows())
    summary = re.search(r"Of the (\d+) statements, (\d+) are followed as stated, (\d+) are choices where the "
                        r"paper is silent, and\s+(\d+) deviate", PAGE)
    assert summary, "the summary sentence is missing"
    assert tuple(map(int, summary.groups())) == (len(rows()), counts["as stated"], counts["chosen"],
                                                 counts["deviates"])


def test_the_cnn_rows_match_the_model():
    """The rows on pooling and padding describe the default CNN as it is built."""
    from mgc_helpers.models import networks

    cnn = networks.build_model("cnn")
    text = {r[0]: r[3] for r in rows()}
    pooling = next(n for n, _, paper, _, _ in rows() if "3x3 strides" in paper)
    assert "strides=(3, 3)" in text[pooling] and f"{cnn.count_params():,}" in text[pooling]
    assert all(cnn.get_layer(f"pool_{i}").strides == (3, 3) for i in (1, 2, 3))
    assert all(cnn.get_layer(f"conv_{i}").padding == "same" for i in (1, 2, 3))
