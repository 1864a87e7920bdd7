"""Triage measured on the hand-labelled evaluation set (tests/care/data/triage_eval.csv), in one run.

The classifiers are trained from the packaged training set (clientlens/care/data/triage_train.csv)
exactly as at run time (clientlens.care.triage), then every evaluation message is triaged. Prints,
per language, language-detection accuracy, topic macro-F1 and accuracy, sentiment and urgency
accuracy, and per-topic precision and recall, as the Markdown tables of docs/care.md "Triage";
with ``--write`` the figures replace those between the ``triage-bench`` markers of docs/care.md.

    .venv/bin/python bench/triage_eval.py [--write] [--mistakes]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from clientlens.care.triage import TOPICS, read_labelled
from clientlens.care.triage_metrics import evaluate

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "care" / "data" / "triage_eval.csv"
DOC = ROOT / "docs" / "care.md"
BEGIN, END = "<!-- triage-bench:begin -->", "<!-- triage-bench:end -->"


def markdown(show_mistakes: bool = False) -> str:
    train = read_labelled()
    rows = read_labelled(EVAL)
    t0 = time.perf_counter()
    report = evaluate(rows)
    took = time.perf_counter() - t0
    langs = list(report)
    lines = [f"Training set: {len(train)} messages "
             f"({', '.join(f'{lang} {sum(r.language == lang for r in train)}' for lang in langs)}); "
             f"evaluation set: {len(rows)} messages; training + triage of the set took {took:.1f} s.", "",
             "| language | messages | language detected | topic macro-F1 | topic accuracy | sentiment accuracy | urgency accuracy |",
             "|---|---|---|---|---|---|---|"]
    for lang in langs:
        r = report[lang]
        lines.append(f"| {lang} | {r.messages} | {r.language_accuracy:.3f} | {r.topic_macro_f1:.3f} | "
                     f"{r.topic_accuracy:.3f} | {r.sentiment_accuracy:.3f} | {r.urgency_accuracy:.3f} |")
    lines += ["", "Per topic, precision / recall (messages):", "",
              "| topic | " + " | ".join(langs) + " |", "|---|" + "---|" * len(langs)]
    for topic in TOPICS:
        cells = []
        for lang in langs:
            p, rec, n = report[lang].per_topic.get(topic, (0.0, 0.0, 0))
            cells.append(f"{p:.2f} / {rec:.2f} ({n})")
        lines.append(f"| {topic} | " + " | ".join(cells) + " |")
    if show_mistakes:
        lines += ["", "Topic mistakes:", ""]
        for lang in langs:
            for text, want, got in report[lang].mistakes:
                lines.append(f"- {lang}: {want} -> {got}: {text}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help="replace the figures in docs/care.md")
    ap.add_argument("--mistakes", action="store_true", help="list the misclassified topics too")
    args = ap.parse_args()
    text = markdown(args.mistakes)
    print(text)
    if args.write:
        doc = DOC.read_text(encoding="utf-8")
        if BEGIN not in doc or END not in doc:
            raise SystemExit(f"{DOC}: no {BEGIN} ... {END} markers")
        doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: f"{BEGIN}\n{text}\n{END}", doc,
                     flags=re.S)
        DOC.write_text(doc, encoding="utf-8")


if __name__ == "__main__":
    main()
