"""Reading JSON files of the evaluation so that a damaged one says where it is damaged: a
report field by field (:class:`Fields`), a JSONL file line by line (:func:`jsonl_objects`).

Example::

    fields = Fields(json.loads(text), path, "")
    k = fields.value("k", int)  # ReportError "<path>: field 'k' must be of type int"
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from qa.types import Choice

_T = TypeVar("_T")
_C = TypeVar("_C", bound=Choice)


class ReportError(ValueError):
    """A report file that cannot be read back; the message names the file and the field."""


def jsonl_objects(path: Path, error: type[ValueError]) -> list[tuple[int, dict[str, Any]]]:
    """The JSON objects of a JSONL file with their line numbers, blank lines skipped; a line
    that is not a JSON object raises ``error`` naming the file and the line."""
    objects = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as problem:
                raise error(f"{path}:{number}: invalid JSON ({problem.msg})") from problem
            if not isinstance(record, dict):
                raise error(f"{path}:{number}: a line must hold a JSON object")
            objects.append((number, record))
    return objects


class Fields:
    """One JSON object of a report file, read field by field.

    A missing or mistyped field raises ReportError naming the file and the field's path
    (``modes.hybrid.latency_ms.median``), so a damaged report says where it is damaged.
    """

    def __init__(self, value: object, file: Path, place: str) -> None:
        if not isinstance(value, dict):
            raise ReportError(f"{file}: {place or 'the file'} must be a JSON object")
        self._value: dict[str, object] = value
        self._file = file
        self._place = place

    def _where(self, key: str) -> str:
        return f"{self._place}.{key}" if self._place else key

    def error(self, key: str, wanted: str) -> ReportError:
        return ReportError(f"{self._file}: field {self._where(key)!r} must be {wanted}")

    def maybe(self, key: str, kind: type[_T]) -> _T | None:
        """The field ``key`` as ``kind``, or None where it is null or absent."""
        return None if self._value.get(key) is None else self.value(key, kind)

    def value(self, key: str, kind: type[_T]) -> _T:
        """The field ``key`` as ``kind`` (an int is a float too, a bool is no int)."""
        value = self._value.get(key)
        accepted = (int, float) if kind is float else (kind,)
        if not isinstance(value, accepted) or (isinstance(value, bool) and kind is not bool):
            raise self.error(key, f"of type {kind.__name__}")
        return kind(value)  # type: ignore[call-arg]

    def has(self, key: str) -> bool:
        """Whether the field is present (fields added later are absent from older reports)."""
        return key in self._value

    def names(self) -> list[str]:
        """The names of the fields of this object, in file order."""
        return list(self._value)

    def object(self, key: str) -> Fields:
        return Fields(self.value(key, dict), self._file, self._where(key))

    def optional_object(self, key: str) -> Fields | None:
        value = self.maybe(key, dict)
        return None if value is None else Fields(value, self._file, self._where(key))

    def items(self, key: str, kinds: tuple[type, ...]) -> list[Any]:
        """The list ``key``, every item an instance of one of ``kinds`` (NoneType for null)."""
        items = self.value(key, list)
        if any(not isinstance(item, kinds) or isinstance(item, bool) for item in items):
            raise self.error(key, "a list of " + " or ".join(k.__name__ for k in kinds))
        return items

    def objects(self, key: str) -> list[Fields]:
        where = self._where(key)
        return [
            Fields(v, self._file, f"{where}[{n}]") for n, v in enumerate(self.items(key, (dict,)))
        ]

    def numbers(self) -> dict[str, float]:
        """Every field of this object, each a number (metrics by name)."""
        return {key: self.value(key, float) for key in self._value}

    def member(self, key: str, kind: type[_C]) -> _C:
        """The string field ``key`` as a member of the enum ``kind``."""
        return self._member(kind, self.value(key, str), key)

    def member_named(self, name: str, kind: type[_C]) -> _C:
        """The field ``name`` itself as a member of ``kind``: reports key each mode's (and
        each anchor method's) object by its name."""
        return self._member(kind, name, name)

    def _member(self, kind: type[_C], text: str, key: str) -> _C:
        try:
            return kind.from_str(text)
        except ValueError as error:
            raise ReportError(f"{self._file}: field {self._where(key)!r} {error}") from None
