"""The deprecation table (``dlx_lint/data/deprecations.toml``): loading, validation, lookups.

The DLX3xx rules never hard-code a symbol: they ask this module which entries exist, which rule
reports each, and whether an entry applies to the configured ``target-torch-version``
(rules-catalog.md, "Deprecated and removed APIs" and clause 18). The table is read once per
process (`table()` is cached); its facts and their sources are documented in the file itself.

Version semantics: ``deprecated``/``removed`` are releases of the entry's `library`. Torchvision
releases are mapped to the PyTorch release they were built against (torchvision's README
compatibility table: 0.13 -> 1.12, 0.14 -> 1.13, 0.(15+n) -> 2.n) so that one
``target-torch-version`` decides for every entry.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

Version = tuple[int, int]

SYMBOL_KINDS = ("function", "class", "attribute", "module")
KINDS = SYMBOL_KINDS + ("argument",)
LIBRARIES = ("torch", "functorch", "torchvision")
CHECKS = ("raises", "absent", "warns", "docstring", "alias", "signature", "skip")
RULES = ("DLX301", "DLX302", "DLX304", "DLX305", "DLX306", "DLX307", "DLX308")
# How DLX301 rewrites a use (the table's `fix`; its header documents each).
FIXES = ("rename", "device-first", "device-keyword", "arange", "linalg-qr", "linalg-cholesky")


class TableError(ValueError):
    """The packaged table is malformed (a packaging bug; the tests load it)."""


@dataclass(frozen=True)
class Entry:
    """One row of the table.

    Attributes:
        name: qualified name of the symbol (``torch.solve``); for argument entries, the first
            function listed (for messages and test ids).
        kind: ``function``, ``class``, ``attribute``, ``module`` or ``argument``.
        library: ``torch``, ``functorch`` or ``torchvision``.
        deprecated: release of `library` that deprecated it.
        removed: release of `library` that removed it, or None.
        replacement: what to use instead.
        drop_in: whether renaming is the whole migration.
        arguments: how the arguments or results differ from the replacement.
        reference: source URL of the deprecation.
        removal_reference: source URL of the removal, if any.
        rule: the rule code that reports it.
        functions: for argument entries, the qualified names of the callables concerned.
        legacy: for argument entries, argument names reported when passed.
        missing: for argument entries, the argument reported when absent.
        check: how the runtime test verifies it (see the table's header).
        probe: Python expression the runtime test evaluates, if any.
        check_reason: why a ``skip`` entry cannot be checked against torch.
        notes: provenance remarks (approximate releases); not used in messages.
        fix: how DLX301 rewrites a use (one of `FIXES`), or None for no fix.
        fix_device: the device type a ``device-first``/``device-keyword`` fix writes.
        fix_positional: the most positional arguments a call may pass for the fix, or None.
        fix_keywords: keyword arguments that block the fix.
    """

    name: str
    kind: str
    library: str
    deprecated: Version
    removed: Version | None
    replacement: str
    drop_in: bool
    arguments: str
    reference: str
    removal_reference: str | None
    rule: str
    functions: tuple[str, ...] = ()
    legacy: tuple[str, ...] = ()
    missing: str | None = None
    check: str = "skip"
    probe: str | None = None
    check_reason: str | None = None
    notes: str | None = None
    fix: str | None = None
    fix_device: str | None = None
    fix_positional: int | None = None
    fix_keywords: tuple[str, ...] = ()

    @property
    def plain_rename(self) -> bool:
        """A ``rename`` fix valid for every use, whatever its arguments (DLX303 can then
        rewrite the import instead of the uses)."""
        return self.fix == "rename" and self.fix_positional is None and not self.fix_keywords

    @property
    def last(self) -> str:
        """The last dotted component of the name (``solve`` for ``torch.solve``)."""
        return self.name.rsplit(".", 1)[-1]

    @property
    def deprecated_torch(self) -> Version:
        """The PyTorch release matching `deprecated`."""
        return torch_release(self.library, self.deprecated)

    def version_text(self, version: Version) -> str:
        """``PyTorch 1.9`` / ``torchvision 0.13`` for one of this entry's versions."""
        label = {"torch": "PyTorch", "functorch": "PyTorch", "torchvision": "torchvision"}[self.library]
        return f"{label} {version[0]}.{version[1]}"

    def applies(self, target: Version | None) -> bool:
        """Whether the entry is reported for code that must run on PyTorch `target` and later.

        Unset (None) means the newest release in the table: every entry applies. Otherwise an
        entry applies when it was deprecated in or before `target`: an API deprecated after it
        is still the only spelling that works on `target` (its replacement may not exist).
        """
        return target is None or self.deprecated_torch <= target


@dataclass(frozen=True)
class Table:
    """The loaded table with the indexes the rules use.

    Attributes:
        entries: every entry, in file order.
        symbols: qualified name -> symbol entry (kinds other than ``argument``).
        symbol_lasts: last name component -> symbol entries ending with it (prefilter).
        arguments: argument entries by rule code.
    """

    entries: tuple[Entry, ...]
    symbols: dict[str, Entry]
    symbol_lasts: dict[str, tuple[Entry, ...]]
    arguments: dict[str, tuple[Entry, ...]]

    def find(self, qualname: str | None) -> Entry | None:
        """The symbol entry for `qualname`: an exact entry, or a module entry that contains it
        (``torch._six.inf`` -> the ``torch._six`` entry). None when nothing matches."""
        if not qualname:
            return None
        entry = self.symbols.get(qualname)
        if entry is not None:
            return entry
        prefix = qualname
        while "." in prefix:
            prefix = prefix.rsplit(".", 1)[0]
            entry = self.symbols.get(prefix)
            if entry is not None:
                return entry if entry.kind == "module" else None
        return None


def parse_version(text: object, where: str) -> Version:
    """``"1.9"`` -> ``(1, 9)``.

    Raises:
        TableError: for anything but ``major.minor`` digits.
    """
    if not isinstance(text, str) or not re.fullmatch(r"\d+\.\d+", text):
        raise TableError(f"{where}: version must be a 'major.minor' string, not {text!r}")
    major, minor = text.split(".")
    return int(major), int(minor)


def torch_release(library: str, version: Version) -> Version:
    """The PyTorch release matching a release of `library`.

    torchvision 0.13 and 0.14 were built for PyTorch 1.12 and 1.13; from 0.15 on, torchvision
    0.(15+n) pairs with PyTorch 2.n (torchvision README, "Installation" compatibility table).
    functorch entries already use PyTorch releases (functorch ships inside torch since 1.13).
    """
    if library != "torchvision":
        return version
    major, minor = version
    if major != 0 or minor < 13:
        raise TableError(f"torchvision {major}.{minor}: no PyTorch pairing known before 0.13")
    return (1, minor - 1) if minor < 15 else (2, minor - 15)


_KEYS = frozenset({
    "name", "kind", "library", "deprecated", "removed", "replacement", "drop_in", "arguments",
    "reference", "removal_reference", "rule", "functions", "legacy", "missing", "check", "probe",
    "check_reason", "notes", "fix", "fix_device", "fix_positional", "fix_keywords",
})


def _entry(raw: dict, index: int) -> Entry:
    where = f"deprecations.toml entry {index + 1}"
    unknown = sorted(set(raw) - _KEYS)
    if unknown:  # a misspelt key would otherwise be ignored silently
        raise TableError(f"{where}: unknown key(s) {', '.join(unknown)}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise TableError(f"{where}: kind must be one of {KINDS}, not {kind!r}")
    library = raw.get("library")
    if library not in LIBRARIES:
        raise TableError(f"{where}: library must be one of {LIBRARIES}, not {library!r}")
    for key in ("replacement", "arguments", "reference"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise TableError(f"{where}: {key} is required")
    if not raw["reference"].startswith("https://"):
        raise TableError(f"{where}: reference must be an https URL")
    removed = parse_version(raw["removed"], where) if "removed" in raw else None
    functions = tuple(raw.get("functions", ()))
    if kind == "argument":
        if not functions:
            raise TableError(f"{where}: an argument entry lists its functions")
        if bool(raw.get("legacy")) == bool(raw.get("missing")):
            raise TableError(f"{where}: an argument entry has exactly one of legacy / missing")
        name = functions[0]
        rule = raw.get("rule")
    else:
        name = raw.get("name")
        if not isinstance(name, str) or "." not in name:
            raise TableError(f"{where}: a symbol entry needs a dotted name")
        rule = raw.get("rule", "DLX302" if removed else "DLX301")
    where = f"deprecations.toml entry {name}"
    if rule not in RULES:
        raise TableError(f"{where}: rule must be one of {RULES}, not {rule!r}")
    check = raw.get("check")
    if check not in CHECKS:
        raise TableError(f"{where}: check must be one of {CHECKS}, not {check!r}")
    if check == "skip" and not raw.get("check_reason"):
        raise TableError(f"{where}: a skipped check says why (check_reason)")
    if check in ("raises", "warns") and not raw.get("probe"):
        raise TableError(f"{where}: check {check!r} needs a probe")
    deprecated = parse_version(raw.get("deprecated"), where)
    torch_release(library, deprecated)  # raises TableError now rather than while linting
    fix = raw.get("fix")
    if fix is not None:
        if fix not in FIXES:
            raise TableError(f"{where}: fix must be one of {FIXES}, not {fix!r}")
        if rule != "DLX301":
            raise TableError(f"{where}: only DLX301 entries have a fix")
        if fix == "rename" and not raw.get("drop_in"):
            raise TableError(f"{where}: a rename fix needs drop_in = true")
        if fix.startswith("device-") != isinstance(raw.get("fix_device"), str):
            raise TableError(f"{where}: fix_device goes with (and only with) a device-first/device-keyword fix")
    elif any(key in raw for key in ("fix_device", "fix_positional", "fix_keywords")):
        raise TableError(f"{where}: fix_* keys without a fix")
    positional = raw.get("fix_positional")
    if positional is not None and (not isinstance(positional, int) or isinstance(positional, bool) or positional < 0):
        raise TableError(f"{where}: fix_positional must be a non-negative integer")
    keywords = raw.get("fix_keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k.isidentifier() for k in keywords):
        raise TableError(f"{where}: fix_keywords must be a list of argument names")
    return Entry(
        name=name,
        kind=kind,
        library=library,
        deprecated=deprecated,
        removed=removed,
        replacement=raw["replacement"],
        drop_in=bool(raw.get("drop_in", False)),
        arguments=raw["arguments"],
        reference=raw["reference"],
        removal_reference=raw.get("removal_reference"),
        rule=rule,
        functions=functions,
        legacy=tuple(raw.get("legacy", ())),
        missing=raw.get("missing"),
        check=check,
        probe=raw.get("probe"),
        check_reason=raw.get("check_reason"),
        notes=raw.get("notes"),
        fix=fix,
        fix_device=raw.get("fix_device"),
        fix_positional=positional,
        fix_keywords=tuple(keywords),
    )


def build_table(document: dict) -> Table:
    """Validate a parsed TOML document and index it.

    Raises:
        TableError: for a malformed entry or a symbol listed twice.
    """
    entries = tuple(_entry(raw, i) for i, raw in enumerate(document.get("entry", [])))
    symbols: dict[str, Entry] = {}
    lasts: dict[str, list[Entry]] = {}
    arguments: dict[str, list[Entry]] = {}
    for entry in entries:
        if entry.kind == "argument":
            arguments.setdefault(entry.rule, []).append(entry)
            continue
        if entry.name in symbols:
            raise TableError(f"deprecations.toml: {entry.name} is listed twice")
        symbols[entry.name] = entry
        lasts.setdefault(entry.last, []).append(entry)
    return Table(
        entries=entries,
        symbols=symbols,
        symbol_lasts={k: tuple(v) for k, v in lasts.items()},
        arguments={k: tuple(v) for k, v in arguments.items()},
    )


@functools.lru_cache(maxsize=1)
def table() -> Table:
    """The packaged table, loaded and validated once per process.

    Raises:
        TableError: if the packaged file is malformed.
    """
    data = resources.files("dlx_lint").joinpath("data", "deprecations.toml").read_bytes()
    return build_table(tomllib.loads(data.decode("utf-8")))


def target_version(model) -> Version | None:
    """The ``target-torch-version`` of the file's settings, or None when unset."""
    settings = getattr(model, "settings", None)
    return settings.target_torch_version if settings is not None else None


def describe(entry: Entry) -> str:
    """``deprecated since PyTorch 1.9`` or ``removed in PyTorch 1.13 (deprecated since 1.9)``."""
    if entry.removed is not None:
        return f"removed in {entry.version_text(entry.removed)} (deprecated since {entry.deprecated[0]}.{entry.deprecated[1]})"
    return f"deprecated since {entry.version_text(entry.deprecated)}"


def replacement_text(entry: Entry) -> str:
    """The replacement as a message shows it: code in backticks, a phrase (``the tensor
    itself``) as plain words."""
    return entry.replacement if entry.replacement.startswith("the ") else f"`{entry.replacement}`"


def use_message(entry: Entry, qualname: str) -> str:
    """The diagnostic message for a use of a table symbol: what, since when, the replacement
    and how the arguments differ (the catalog asks DLX302 to say so; DLX301 does the same)."""
    if qualname == entry.name:
        verb = "was" if entry.removed is not None else "is"
        subject = f"`{entry.name}` {verb} {describe(entry)}"
    else:  # a member of a deprecated or removed module
        subject = f"`{qualname}` comes from the module `{entry.name}`, {describe(entry)}"
    text = f"{subject}; use {replacement_text(entry)}"
    if entry.arguments and entry.arguments != "same arguments":
        text += f" ({entry.arguments})"
    return text
