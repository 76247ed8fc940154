"""The synced aggregates of this backend: a model, the domain owning it, the fields copied.

Both sides of a sync register the same aggregate name with the same field names, so their
payloads, and the checksums computed over them, are comparable.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from django.core.exceptions import ImproperlyConfigured
from django.db import models

from strangler.errors import NotFound


@dataclass(frozen=True)
class Aggregate:
    name: str
    domain: str
    model: type[models.Model]
    fields: tuple[str, ...]
    # The field whose value picks the sync partition: events of one partition apply in order,
    # so an aggregate that refers to another (a token to its user) shares that one's partition.
    partition_by: str | None = None

    def partition_key(self, instance: models.Model) -> str:
        if self.partition_by is None:
            return str(instance.pk)
        return str(self._attribute(instance, self.partition_by))

    def payload(self, instance: models.Model) -> dict:
        return self.payload_from_values([getattr(instance, a) for a in self.attnames])

    def payload_from_values(self, values) -> dict:
        """The payload of a row read as values of `fields`' attributes, in that order."""
        return {
            name: value if convert is None or value is None else convert(value)
            for name, convert, value in zip(self.fields, self._converters, values, strict=True)
        }

    def field(self, name: str) -> models.Field:
        """The model's column behind a payload field: a relation's other side is no column."""
        field = self.model._meta.get_field(name)
        if not isinstance(field, models.Field):
            raise ImproperlyConfigured(
                f"aggregate {self.name!r}: {name!r} is not a column of {self.model._meta.label}"
            )
        return field

    @cached_property
    def attnames(self) -> tuple[str, ...]:
        """The model attributes (columns) behind `fields`, in their order."""
        return tuple(self.field(name).attname for name in self.fields)

    @cached_property
    def _converters(self) -> tuple:
        """Per field, what turns its value into JSON's form (None: it already is), decided once
        by the field's type rather than per value: rows are read by the hundred thousand."""
        return tuple(_CONVERTERS.get(self.field(name).get_internal_type()) for name in self.fields)

    def values(self, payload: dict, *, only: tuple[str, ...] | None = None) -> dict:
        """Model attribute values from a payload (inverse of `payload`)."""
        values = {}
        for name in only if only is not None else self.fields:
            field = self.field(name)
            values[field.attname] = field.to_python(payload.get(name))
        return values

    def _attribute(self, instance: models.Model, name: str):
        return getattr(instance, self.field(name).attname)


def _json_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


_CONVERTERS = {
    "DateTimeField": _json_datetime,
    "DecimalField": str,
    "UUIDField": str,
}


class UnknownAggregate(NotFound):
    """No synced aggregate of that name here: a caller's mistake, or backends out of step."""


_by_name: dict[str, Aggregate] = {}
_by_model: dict[type[models.Model], Aggregate] = {}


def register(aggregate: Aggregate) -> Aggregate:
    _by_name[aggregate.name] = aggregate
    _by_model[aggregate.model] = aggregate
    return aggregate


def by_name(name: str) -> Aggregate:
    try:
        return _by_name[name]
    except KeyError:
        raise UnknownAggregate(f"no synced aggregate named {name!r} on this backend") from None


def for_model(model: type[models.Model]) -> Aggregate:
    return _by_model[model]


def in_domain(domain: str) -> list[Aggregate]:
    return [aggregate for aggregate in _by_name.values() if aggregate.domain == domain]


def all_aggregates() -> list[Aggregate]:
    return list(_by_name.values())
