"""Typed settings of the triage of inbound messages and of the priority built on it: ``[care.triage]``.

>>> TriageSettings().classifier_languages
('en', 'vi', 'pl', 'fr')
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PrioritySettings(_Frozen):
    """``[care.triage.priority]``: points added to the SLA rule's priority (care.priority)."""

    urgency_points: dict[str, int] = Field(default_factory=lambda: {"low": 0, "normal": 0, "high": 2})
    sentiment_points: dict[str, int] = Field(default_factory=lambda: {"negative": 1, "neutral": 0,
                                                                      "positive": 0})
    topic_points: dict[str, int] = Field(default_factory=dict)
    first_response_breached_points: int = 1
    near_breach_points: int = 0
    # Triage only counts when the topic classifier is at least this sure (else only the SLA and segment).
    min_topic_confidence: float = Field(default=0.0, ge=0.0, le=1.0)


class TriageSettings(_Frozen):
    """``[care.triage]``: language detection and the classifiers (care.triage)."""

    # The languages the shipped training data covers; others are detected and reported as such.
    classifier_languages: tuple[str, ...] = ("en", "vi", "pl", "fr")
    # The languages the detector may answer (py3langid restricted to these); "und" below the probability.
    detect_languages: tuple[str, ...] = ("en", "vi", "pl", "fr", "de", "es", "it", "nl", "pt", "cs")
    min_language_probability: float = Field(default=0.3, ge=0.0, le=1.0)
    min_language_chars: int = Field(default=3, ge=1)
    max_chars: int = Field(default=4000, ge=100)  # a longer message is cut (quotes and signatures add nothing)
    # A CSV (language,topic,sentiment,urgency,text) to train on instead of the packaged one ("" = packaged).
    train_file: str = ""
    char_ngram_max: int = Field(default=5, ge=2, le=8)
    word_ngram_max: int = Field(default=2, ge=1, le=3)
    regularisation_c: float = Field(default=10.0, gt=0)
    # sentiment_score = P(positive) - P(negative) in [-1, 1]
    priority: PrioritySettings = PrioritySettings()
