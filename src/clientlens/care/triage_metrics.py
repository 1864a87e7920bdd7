"""How well the triage does on a labelled set: language accuracy, per-topic precision and recall,
macro-F1 of topic, sentiment and urgency accuracy, per language (bench/triage_eval.py, the tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from clientlens.care.triage import TOPICS, LabelledMessage, classify_many
from clientlens.care.triage_config import TriageSettings


@dataclass(frozen=True)
class LanguageReport:
    language: str
    messages: int
    language_accuracy: float
    topic_macro_f1: float
    topic_accuracy: float
    sentiment_accuracy: float
    urgency_accuracy: float
    # topic -> (precision, recall, support)
    per_topic: dict[str, tuple[float, float, int]] = field(default_factory=dict)
    mistakes: tuple[tuple[str, str, str], ...] = ()  # (text, expected topic, predicted topic)


def evaluate(rows: Sequence[LabelledMessage], triage: TriageSettings | None = None) -> dict[str, LanguageReport]:
    """One report per language of ``rows`` (their expected labels against :func:`classify_many`)."""
    triage = triage or TriageSettings()
    got = classify_many([r.text for r in rows], triage)
    out: dict[str, LanguageReport] = {}
    for lang in sorted({r.language for r in rows}):
        idx = [i for i, r in enumerate(rows) if r.language == lang]
        exp_t = [rows[i].topic for i in idx]
        got_t = [got[i].topic for i in idx]
        labels = [t for t in TOPICS if t in exp_t]
        p, r, _, s = precision_recall_fscore_support(exp_t, got_t, labels=labels, zero_division=0)
        out[lang] = LanguageReport(
            language=lang, messages=len(idx),
            language_accuracy=float(accuracy_score([lang] * len(idx), [got[i].language for i in idx])),
            topic_macro_f1=float(f1_score(exp_t, got_t, labels=labels, average="macro", zero_division=0)),
            topic_accuracy=float(accuracy_score(exp_t, got_t)),
            sentiment_accuracy=float(accuracy_score([rows[i].sentiment for i in idx],
                                                    [got[i].sentiment for i in idx])),
            urgency_accuracy=float(accuracy_score([rows[i].urgency for i in idx], [got[i].urgency for i in idx])),
            per_topic={t: (float(p[k]), float(r[k]), int(s[k])) for k, t in enumerate(labels)},
            mistakes=tuple((rows[i].text, rows[i].topic, got[i].topic) for i in idx
                           if rows[i].topic != got[i].topic))
    return out
