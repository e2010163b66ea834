"""Name -> factory registries for every kind of pluggable component.

Each kind (aggregators, pre-aggregators, attacks, datasets, models, partitioners, protocols, and
the tracks' own kinds: personalized FL's regularizers, strategic-user attacks, user datasets and
local models; data poisoning's poisoners, targets, sanitizers and victims; ...) has one
:class:`Registry`.  Components register under a short lowercase name with a decorator::

    @aggregators.register("cc", tags={"stateful"})
    class CenteredClipping(Aggregator): ...

and are built by name with validated keyword parameters::

    aggregators.make("cc", tau=1.0, f=5)

Short names are what test ids are made of, so ``pytest -k NAME`` selects a component's cases.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class RegistryError(ValueError):
    """An unknown component name or an invalid parameter for a known one."""


ABBREVIATIONS = frozenset({"al", "e.g", "i.e", "cf", "vs", "Eq", "Eqs", "Fig", "Alg", "Sec", "No"})


def first_sentence(doc: str) -> str:
    """The first sentence of ``doc``'s first paragraph, on one line, with ````code```` shown as
    ``code``.  A sentence ends at a full stop followed by a capital, an opening bracket or the
    paragraph's end, unless the stop closes an abbreviation such as "et al." or "Eq."."""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split()).replace("``", "")
    for stop in re.finditer(r"\.(?=\s+[A-Z(]|$)", paragraph):
        word = paragraph[:stop.start()].rsplit(" ", 1)[-1].lstrip("(")
        if word not in ABBREVIATIONS:
            return paragraph[:stop.end()]
    return paragraph


@dataclass(frozen=True)
class Entry:
    """One registered component: its short name, factory, tags and first docstring line."""

    name: str
    factory: Callable[..., Any]
    tags: frozenset[str]

    @property
    def summary(self) -> str:
        """The docstring's first sentence (it may span lines), reST literals as plain text."""
        return first_sentence(inspect.getdoc(self.factory) or "")

    def parameters(self) -> dict[str, inspect.Parameter]:
        """Keyword parameters the factory accepts (``self`` and ``*args``/``**kwargs`` left out)."""
        sig = inspect.signature(self.factory)
        return {
            name: p
            for name, p in sig.parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }

    def accepts_any_keyword(self) -> bool:
        sig = inspect.signature(self.factory)
        return any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


class Registry(Generic[T]):
    """A registry of one kind of component, e.g. ``Registry("aggregator")``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, *, tags: Iterable[str] = ()) -> Callable[[T], T]:
        """Class or function decorator that registers ``name`` -> the decorated factory."""
        if not NAME_PATTERN.match(name):
            raise RegistryError(
                f"{self.kind} name {name!r} must be lowercase letters and digits, "
                "optionally joined by '-'"
            )

        def decorate(factory: T) -> T:
            if name in self._entries and self._entries[name].factory is not factory:
                raise RegistryError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = Entry(name, factory, frozenset(tags))  # type: ignore[arg-type]
            return factory

        return decorate

    def names(self, tag: str | None = None) -> list[str]:
        """Sorted registered names, optionally only those carrying ``tag``."""
        return sorted(n for n, e in self._entries.items() if tag is None or tag in e.tags)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def entry(self, name: str) -> Entry:
        """The entry for ``name``; a clear error that lists the known names otherwise."""
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none)"
            close = difflib.get_close_matches(str(name), self.names(), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise RegistryError(
                f"unknown {self.kind} {name!r}.{hint} Known {self.kind}s: {known}"
            ) from None

    def tags(self, name: str) -> frozenset[str]:
        return self.entry(name).tags

    def validate(self, name: str, params: dict[str, Any]) -> None:
        """Raise :class:`RegistryError` when ``params`` do not fit ``name``'s factory."""
        entry = self.entry(name)
        accepted = entry.parameters()
        if not entry.accepts_any_keyword():
            unknown = sorted(set(params) - set(accepted))
            if unknown:
                listing = ", ".join(accepted) or "(none)"
                raise RegistryError(
                    f"{self.kind} {name!r} got unknown parameter(s) {', '.join(unknown)}; "
                    f"it accepts: {listing}"
                )
        missing = [
            p for p, spec in accepted.items() if spec.default is spec.empty and p not in params
        ]
        if missing:
            raise RegistryError(
                f"{self.kind} {name!r} is missing required parameter(s): {', '.join(missing)}"
            )

    def make(self, name: str, **params: Any) -> Any:
        """Build ``name`` with ``params`` after validating them against its signature."""
        self.validate(name, params)
        try:
            return self.entry(name).factory(**params)
        except (TypeError, ValueError) as err:
            raise RegistryError(f"{self.kind} {name!r} with {params}: {err}") from err

    def make_with_optional(self, name: str, optional: dict[str, Any], **params: Any) -> Any:
        """Like :meth:`make`, also passing each ``optional`` keyword the factory declares.

        The simulator uses this to inject context such as ``f`` or ``num_classes`` into the
        components that take it, without forcing every component to accept it.
        """
        accepted = self.entry(name).parameters()
        extra = {k: v for k, v in optional.items() if k in accepted and k not in params}
        return self.make(name, **params, **extra)


aggregators: Registry = Registry("aggregator")
preaggregators: Registry = Registry("pre-aggregator")
attacks: Registry = Registry("attack")
datasets: Registry = Registry("dataset")
models: Registry = Registry("model")
partitioners: Registry = Registry("partitioner")
protocols: Registry = Registry("protocol")
engines: Registry = Registry("engine")
regularizers: Registry = Registry("regularizer")
pfl_attacks: Registry = Registry("pfl attack")
pfl_datasets: Registry = Registry("pfl dataset")
pfl_models: Registry = Registry("pfl model")
poisoners: Registry = Registry("poisoner")
targets: Registry = Registry("target")
sanitizers: Registry = Registry("sanitizer")
victims: Registry = Registry("victim")

ALL: dict[str, Registry] = {
    "aggregators": aggregators,
    "preaggregators": preaggregators,
    "attacks": attacks,
    "datasets": datasets,
    "models": models,
    "partitioners": partitioners,
    "protocols": protocols,
    "engines": engines,
    "regularizers": regularizers,
    "pfl_attacks": pfl_attacks,
    "pfl_datasets": pfl_datasets,
    "pfl_models": pfl_models,
    "poisoners": poisoners,
    "targets": targets,
    "sanitizers": sanitizers,
    "victims": victims,
}


#: kinds listed by ``byzbench list`` that never appear in test ids (a setting, not a component)
NOT_IN_IDS = ("engines",)


def component_names() -> list[str]:
    """Every registered short name of every kind that test ids are built from."""
    return sorted({n for kind, reg in ALL.items() if kind not in NOT_IN_IDS for n in reg.names()})
