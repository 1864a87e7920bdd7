"""The one exception tree of clientlens.

::

    ClientlensError
    ├── ConfigError               bad configuration value or file
    ├── InputError                an input file or frame cannot be used (exit code 4)
    │   └── MissingColumnsError   a required column is absent
    ├── ValidationError           rows were rejected (exit code 3); carries the rejections
    ├── StoreError                the operational store is unreachable or inconsistent
    │   └── NotFoundError         an entity (shop, customer, snapshot...) does not exist
    ├── EngineError               the analytics engine (DuckDB / Spark) failed
    ├── ModelError                a model cannot be fitted or used
    │   └── NotFittedError        predicting before ``fit`` (also ValueError, AttributeError)
    └── CareError                 inbox, campaign or sender failure
        └── ConsentError          a message to a channel without consent

Every message says what was wrong, where (file, row, column, field) and what to do.
"""

from __future__ import annotations


class ClientlensError(Exception):
    """Base of every error raised on purpose by clientlens."""

    exit_code: int = 1


class ConfigError(ClientlensError):
    """A configuration file or value is invalid."""


class InputError(ClientlensError):
    """An input cannot be used at all; nothing was changed."""

    exit_code = 4


class MissingColumnsError(InputError):
    """A required column is missing from an input."""


class ValidationError(ClientlensError):
    """Some rows were rejected; the valid ones were kept."""

    exit_code = 3


class StoreError(ClientlensError):
    """The operational store failed."""


class NotFoundError(StoreError):
    """A shop, customer, snapshot or other entity does not exist."""


class EngineError(ClientlensError):
    """The analytics engine failed."""


class ModelError(ClientlensError, ValueError):
    """A model cannot be fitted or used with this input."""


class NotFittedError(ModelError, AttributeError):
    """A model was used before ``fit`` (like scikit-learn's NotFittedError)."""


class CareError(ClientlensError):
    """Inbox, campaign or sender failure."""


class ConsentError(CareError):
    """A message was about to go to a channel the customer has not consented to."""
