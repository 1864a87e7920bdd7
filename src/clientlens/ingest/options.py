"""Parse options of an import: from CLI flags and/or a TOML mapping file.

A mapping file::

    [columns]
    customer_id = "Client No"
    order_date = "Datum"

    [parse]
    date_format = "%d.%m.%Y"
    decimal = ","
    delimiter = ";"
    encoding = "cp1250"
    currency = "CZK"
    timezone = "Europe/Prague"

CLI flags win over the mapping file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from clientlens.errors import InputError

PARSE_KEYS = ("date_format", "decimal", "delimiter", "encoding", "currency", "timezone")


@dataclass(frozen=True)
class ParseOptions:
    """How to read a file; ``None`` means detect (or use the default)."""

    date_format: str | None = None
    decimal: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    currency: str | None = None
    timezone: str | None = None

    def merged(self, other: ParseOptions | None) -> ParseOptions:
        """These options with every value set in ``other`` taking precedence."""
        if other is None:
            return self
        changes = {k: getattr(other, k) for k in PARSE_KEYS if getattr(other, k) is not None}
        return replace(self, **changes)


@dataclass(frozen=True)
class Mapping:
    """A mapping file: canonical column -> the file's header, plus parse options."""

    columns: dict[str, str] = field(default_factory=dict)
    parse: ParseOptions = ParseOptions()
    path: str | None = None


def _check_decimal(value: str | None, where: str) -> None:
    if value is not None and value not in (".", ","):
        raise InputError(f"{where}: decimal must be '.' or ',' (got {value!r})")


def load_mapping(path: str | Path | None) -> Mapping:
    """Read a TOML mapping file (``[columns]`` and ``[parse]``); InputError naming the key if bad."""
    if path is None:
        return Mapping()
    p = Path(path)
    if not p.is_file():
        raise InputError(f"mapping file {p} does not exist")
    try:
        doc: dict[str, Any] = tomllib.loads(p.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"mapping file {p}: not valid TOML: {exc}") from exc
    unknown = set(doc) - {"columns", "parse"}
    if unknown:
        raise InputError(f"mapping file {p}: unknown section(s) {sorted(unknown)}; expected [columns] and [parse]")
    cols = doc.get("columns", {})
    if not isinstance(cols, dict) or not all(isinstance(v, str) for v in cols.values()):
        raise InputError(f"mapping file {p}: [columns] must map canonical names to header strings")
    parse = doc.get("parse", {})
    bad = set(parse) - set(PARSE_KEYS)
    if bad:
        raise InputError(f"mapping file {p}: unknown [parse] key(s) {sorted(bad)}; expected {list(PARSE_KEYS)}")
    opts = ParseOptions(**{k: str(v) for k, v in parse.items()})
    _check_decimal(opts.decimal, f"mapping file {p} [parse] decimal")
    return Mapping(columns=dict(cols), parse=opts, path=str(p))


def resolve_options(mapping: Mapping | None, options: ParseOptions | None) -> tuple[Mapping, ParseOptions]:
    """The mapping and the effective parse options (CLI flags over the mapping file)."""
    mapping = mapping or Mapping()
    opts = mapping.parse.merged(options)
    _check_decimal(opts.decimal, "--decimal")
    if opts.delimiter is not None:
        opts = replace(opts, delimiter=_delimiter(opts.delimiter))
    return mapping, opts


def _delimiter(value: str) -> str:
    names = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|",
             "space": " ", "whitespace": " "}
    out = names.get(value.lower(), value)
    if len(out) != 1:
        raise InputError(f"--delimiter must be one character or tab/space/semicolon/comma/pipe (got {value!r})")
    return out
