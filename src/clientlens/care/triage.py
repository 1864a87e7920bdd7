"""Offline triage of an inbound message: language, topic, sentiment and urgency.

- Language: py3langid (langid.py's naive Bayes model over byte n-grams, bundled in the package),
  restricted to ``[care.triage] detect_languages``; below ``min_language_probability`` (or on a text
  shorter than ``min_language_chars``) the language is ``"und"``.
- Topic, sentiment and urgency: one multilingual scikit-learn pipeline each (TF-IDF of character
  n-grams within word boundaries + TF-IDF of word n-grams, accents folded, then one-vs-rest logistic
  regressions), trained from the hand-written messages shipped in ``care/data/triage_train.csv``.
  Training takes well under a second, so it is done lazily once per process and settings (no pickled
  artefact: nothing to rebuild or to go stale when scikit-learn changes its pickle format).

Nothing is fetched at run time. docs/care.md "Triage" has the measured figures (bench/triage_eval.py).
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion
from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care.config import care_settings
from clientlens.care.triage_config import TriageSettings
from clientlens.errors import ConfigError, NotFoundError
from clientlens.store import models as m
from clientlens.store.care_models import Conversation, ConversationMessage
from clientlens.store.repository import utcnow
from clientlens.store.triage_models import MessageTriage

if TYPE_CHECKING:
    from clientlens.config import Settings

TOPICS = ("order_status", "delivery_problem", "return_refund", "complaint", "invoice_payment",
          "product_question", "account_privacy", "praise", "other")
SENTIMENTS = ("negative", "neutral", "positive")
URGENCIES = ("low", "normal", "high")
UNDETERMINED = "und"
TRAIN_COLUMNS = ("language", "topic", "sentiment", "urgency", "text")
_TARGETS = {"topic": TOPICS, "sentiment": SENTIMENTS, "urgency": URGENCIES}


@dataclass(frozen=True)
class Triage:
    """The triage of one message."""

    language: str  # ISO 639-1 code of the detected language, or "und"
    topic: str  # one of TOPICS
    topic_confidence: float  # the classifier's probability of that topic, 0..1
    sentiment: str  # negative | neutral | positive
    sentiment_score: float  # P(positive) - P(negative), -1..1
    urgency: str  # low | normal | high


@dataclass(frozen=True)
class LabelledMessage:
    language: str
    topic: str
    sentiment: str
    urgency: str
    text: str


def read_labelled(path: str | Path | None = None) -> list[LabelledMessage]:
    """The labelled messages of a CSV with columns language, topic, sentiment, urgency, text
    (the packaged training set when ``path`` is None). A bad row raises ConfigError naming it."""
    if path is None or str(path) == "":
        source = resources.files("clientlens.care").joinpath("data/triage_train.csv")
        text = source.read_text(encoding="utf-8")
        name = "care/data/triage_train.csv"
    else:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"triage training file {p} does not exist")
        text, name = p.read_text(encoding="utf-8"), str(p)
    rows = list(csv.DictReader(text.splitlines()))
    if not rows:
        raise ConfigError(f"{name}: no labelled messages")
    missing = [c for c in TRAIN_COLUMNS if c not in rows[0]]
    if missing:
        raise ConfigError(f"{name}: missing column(s) {', '.join(missing)}")
    out = []
    for i, row in enumerate(rows, start=2):  # line 1 is the header
        for col, allowed in _TARGETS.items():
            if row[col] not in allowed:
                raise ConfigError(f"{name} line {i}: {col} {row[col]!r} is not one of {', '.join(allowed)}")
        if not (row["text"] or "").strip():
            raise ConfigError(f"{name} line {i}: text is empty")
        if not (row["language"] or "").strip():
            raise ConfigError(f"{name} line {i}: language is empty")
        out.append(LabelledMessage(row["language"].strip(), row["topic"], row["sentiment"], row["urgency"],
                                   row["text"].strip()))
    return out


def message_text(body: str | None, subject: str | None = None, max_chars: int = 4000) -> str:
    """The text triaged: subject and body on separate lines, cut at ``max_chars``."""
    parts = [s.strip() for s in (subject, body) if s and s.strip()]
    return "\n".join(parts)[:max_chars]


class TriageClassifier(BaseEstimator):  # type: ignore[misc]
    """Topic, sentiment and urgency of message texts (scikit-learn estimator contract).

    ``fit(X, y)`` takes texts and an (n, 3) array of (topic, sentiment, urgency) labels;
    ``predict(X)`` returns that array; ``predict_proba(X)`` the three probability matrices.
    """

    def __init__(self, char_ngram_max: int = 5, word_ngram_max: int = 2, C: float = 10.0) -> None:
        self.char_ngram_max = char_ngram_max
        self.word_ngram_max = word_ngram_max
        self.C = C

    def _features(self) -> FeatureUnion:
        return FeatureUnion([
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, self.char_ngram_max),
                                     lowercase=True, sublinear_tf=True, min_df=1)),
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, self.word_ngram_max),
                                     lowercase=True, strip_accents="unicode", sublinear_tf=True,
                                     token_pattern=r"(?u)\b\w+\b")),
        ])

    def _model(self) -> OneVsRestClassifier:
        # One-vs-rest liblinear: as accurate here as the multinomial lbfgs fit and several times faster.
        return OneVsRestClassifier(LogisticRegression(C=self.C, solver="liblinear", class_weight="balanced"))

    def fit(self, X: Sequence[str], y: Any) -> TriageClassifier:
        labels = np.asarray(y, dtype=object)
        if labels.ndim != 2 or labels.shape[1] != 3 or labels.shape[0] != len(X):
            raise ValueError("y must be an (n, 3) array of topic, sentiment and urgency labels")
        self.features_ = self._features()
        features = self.features_.fit_transform(list(X))
        self.models_ = [self._model().fit(features, labels[:, j]) for j in range(3)]
        # The one-vs-rest regressions as one weight matrix per target: predict_proba is then one sparse
        # product (the same numbers as OneVsRestClassifier.predict_proba, without its per-class overhead).
        self.weights_ = [(np.ascontiguousarray(np.vstack([e.coef_.ravel() for e in model.estimators_]).T),
                          np.array([e.intercept_[0] for e in model.estimators_])) for model in self.models_]
        return self

    def predict_proba(self, X: Sequence[str]) -> list[np.ndarray]:
        features = self.features_.transform(list(X))
        out = []
        for weights, intercept in self.weights_:
            p = 1.0 / (1.0 + np.exp(-(np.asarray(features @ weights) + intercept)))
            out.append(p / p.sum(axis=1, keepdims=True))
        return out

    def predict(self, X: Sequence[str]) -> np.ndarray:
        return np.column_stack([classes[np.argmax(p, axis=1)]
                                for classes, p in zip(self.classes_, self.predict_proba(X), strict=True)])

    @property
    def classes_(self) -> list[np.ndarray]:
        return [model.classes_ for model in self.models_]


_LOCK = threading.Lock()
_MODELS: dict[tuple[Any, ...], TriageClassifier] = {}
_DETECTORS: dict[tuple[str, ...], Any] = {}
# Triages by (settings, text): the same text (a template, a re-sync) is classified once per process.
_CACHE: dict[tuple[Any, str], Triage] = {}
_CACHE_SIZE = 20_000


def fitted_classifier(triage: TriageSettings) -> TriageClassifier:
    """The classifier trained on the configured data (once per process and settings)."""
    key = (triage.train_file, triage.char_ngram_max, triage.word_ngram_max, triage.regularisation_c)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            rows = [r for r in read_labelled(triage.train_file or None)
                    if r.language in triage.classifier_languages]
            if not rows:
                raise ConfigError("[care.triage] classifier_languages: no training message in "
                                  f"{', '.join(triage.classifier_languages) or '(none)'}")
            model = TriageClassifier(triage.char_ngram_max, triage.word_ngram_max, triage.regularisation_c)
            model.fit([r.text for r in rows], [[r.topic, r.sentiment, r.urgency] for r in rows])
            _MODELS.clear()
            _MODELS[key] = model
        return model


def _detector(languages: tuple[str, ...]) -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    with _LOCK:
        det = _DETECTORS.get(languages)
        if det is None:
            det = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            try:
                det.set_languages(list(languages))
            except ValueError as exc:
                raise ConfigError(f"[care.triage] detect_languages: {exc}") from exc
            _DETECTORS[languages] = det
        return det


def detect_language(text: str, triage: TriageSettings | None = None) -> tuple[str, float]:
    """(ISO 639-1 code or "und", probability) of ``text``."""
    triage = triage or TriageSettings()
    letters = sum(ch.isalpha() for ch in text)
    if letters < triage.min_language_chars:
        return UNDETERMINED, 0.0
    lang, prob = _detector(tuple(triage.detect_languages)).classify(text)
    if prob < triage.min_language_probability:
        return UNDETERMINED, float(prob)
    return str(lang), float(prob)


def _settings_triage(settings: Settings | None) -> TriageSettings:
    if settings is None:
        return TriageSettings()
    return care_settings(settings).triage


def classify_many(texts: Iterable[str], triage: TriageSettings | None = None) -> list[Triage]:
    """The triage of each (already joined) message text."""
    triage = triage or TriageSettings()
    items = [t[: triage.max_chars] for t in texts]
    if not items:
        return []
    key = (triage.train_file, triage.char_ngram_max, triage.word_ngram_max, triage.regularisation_c,
           triage.detect_languages, triage.min_language_probability, triage.min_language_chars)
    todo = sorted({t for t in items if (key, t) not in _CACHE})
    if todo:
        model = fitted_classifier(triage)
        (p_topic, p_sent, p_urg) = model.predict_proba(todo)
        c_topic, c_sent, c_urg = model.classes_
        pos, neg = list(c_sent).index("positive"), list(c_sent).index("negative")
        if len(_CACHE) + len(todo) > _CACHE_SIZE:
            _CACHE.clear()
        for i, text in enumerate(todo):
            lang, _ = detect_language(text, triage)
            t = int(np.argmax(p_topic[i]))
            _CACHE[(key, text)] = Triage(
                language=lang, topic=str(c_topic[t]), topic_confidence=round(float(p_topic[i][t]), 4),
                sentiment=str(c_sent[int(np.argmax(p_sent[i]))]),
                sentiment_score=round(float(p_sent[i][pos] - p_sent[i][neg]), 4),
                urgency=str(c_urg[int(np.argmax(p_urg[i]))]))
    return [_CACHE[(key, t)] for t in items]


def classify(body: str, subject: str | None = None, *, settings: Settings | None = None) -> Triage:
    """The triage of one message (its subject, when given, is read with the body)."""
    if not isinstance(body, str):
        raise TypeError(f"body must be a string, not {type(body).__name__}")
    triage = _settings_triage(settings)
    return classify_many([message_text(body, subject, triage.max_chars)], triage)[0]


def newest_inbound(session: Session, conversation_id: int) -> m.Interaction | None:
    """The conversation's newest inbound interaction."""
    return session.scalars(
        select(m.Interaction).join(ConversationMessage, ConversationMessage.interaction_id == m.Interaction.id)
        .where(ConversationMessage.conversation_id == conversation_id, ConversationMessage.direction != "outbound")
        .order_by(m.Interaction.occurred_at.desc(), m.Interaction.id.desc()).limit(1)).first()


def store_triage(session: Session, conv: Conversation, inter: m.Interaction, result: Triage,
                 now: datetime) -> None:
    """Write ``result`` on the conversation and on the interaction's triage row."""
    conv.language, conv.topic, conv.topic_confidence = result.language, result.topic, result.topic_confidence
    conv.sentiment, conv.sentiment_score, conv.urgency = result.sentiment, result.sentiment_score, result.urgency
    conv.triaged_message_at = inter.occurred_at
    row = session.get(MessageTriage, inter.id)
    if row is None:
        row = MessageTriage(interaction_id=inter.id)
        session.add(row)
    row.language, row.topic, row.topic_confidence = result.language, result.topic, result.topic_confidence
    row.sentiment, row.sentiment_score, row.urgency = result.sentiment, result.sentiment_score, result.urgency
    row.triaged_at = now


def triage_latest(session: Session, conv: Conversation, triage: TriageSettings, now: datetime) -> Triage | None:
    """Triage the newest inbound message of ``conv`` and store it (None: no inbound message)."""
    inter = newest_inbound(session, conv.id)
    if inter is None:
        return None
    result = classify_many([message_text(inter.body, inter.subject, triage.max_chars)], triage)[0]
    store_triage(session, conv, inter, result, now)
    return result


def triage_conversation(session: Session, conversation_id: int, settings: Settings) -> Triage | None:
    """Triage the conversation's newest inbound message, store the result on the conversation and the
    interaction, and recompute the conversation's priority. None when it has no inbound message."""
    from clientlens.care.priority import refresh_priority

    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFoundError(f"conversation {conversation_id} does not exist")
    now = utcnow()
    inter = newest_inbound(session, conv.id)
    result: Triage | None = None
    if inter is not None:
        stored = session.get(MessageTriage, inter.id)
        if stored is not None and conv.triaged_message_at == inter.occurred_at:  # already triaged (inbox sync)
            result = Triage(stored.language, stored.topic, stored.topic_confidence, stored.sentiment,
                            stored.sentiment_score, stored.urgency)
        else:
            triage = _settings_triage(settings)
            result = classify_many([message_text(inter.body, inter.subject, triage.max_chars)], triage)[0]
            store_triage(session, conv, inter, result, now)
    refresh_priority(session, conv, settings, now)
    session.flush()
    return result
