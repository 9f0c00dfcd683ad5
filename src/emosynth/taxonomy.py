"""Label sets (taxonomies) and the mappings between them.

The built-in sets live in ``resources/taxonomies.yaml``; a user's own set is a YAML file of the same shape
(``name``, ``labels: [{name, ekman?, cue?}]``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from emosynth.errors import ConfigError, UnknownNameError

EKMAN = ("neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear")


@dataclass(frozen=True)
class Taxonomy:
    """An ordered label set; a label's index is the number shown to the LLM."""

    name: str
    labels: tuple[str, ...]
    ekman: tuple[str | None, ...]
    multi_label: bool = False
    description: str = ""
    cues: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # labels of other sets that map onto one of this set's labels before the Ekman classes do (casefolded name ->
    # label), and the label that takes what has no other equivalent (EmoContext's ``others``)
    also: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    catch_all: str | None = None

    def __post_init__(self):
        if len(set(self.labels)) != len(self.labels):
            raise ConfigError(f"Taxonomy '{self.name}' repeats a label: {list(self.labels)}")

    def index(self, label: str) -> int:
        """The label's number (its position; the symbol shown to the LLM)."""
        return self.labels.index(self.check(label))

    def check(self, label: str, where: str | None = None) -> str:
        """Return the label as spelled in this set (case-insensitive match) or raise a clear error.

        ``where`` (a ``file:line``) starts the error message when given.
        """
        if label in self.labels:
            return label
        folded = {lab.casefold(): lab for lab in self.labels}
        if label.casefold() in folded:
            return folded[label.casefold()]
        message = f"Unknown label '{label}' for taxonomy '{self.name}'; expected one of: {', '.join(self.labels)}"
        raise UnknownNameError(f"{where}: {message}" if where else message)

    def numbered(self, sep: str = ", ") -> str:
        """``0: neutral, 1: joy, ...``: how the labels are shown to the LLM as symbols (one per line with ``"\\n"``)."""
        return sep.join(f"{i}: {lab}" for i, lab in enumerate(self.labels))

    def label_of(self, number: object) -> str | None:
        """The label a reply's number names; None for anything else (a server that does not enforce the schema may
        answer -1, 2.5 or true: none of them is a label)."""
        if type(number) is int and 0 <= number < len(self.labels):
            return self.labels[number]
        return None

    def to_ekman(self, label: str) -> str | None:
        """The label's Ekman class (``neutral`` counts as one), or None when it has none."""
        return self.ekman[self.index(label)]

    def map_to(self, label: str, other: Taxonomy) -> str | None:
        """Map a label onto another set: same name first, else a label of ``other`` that lists it under ``also``,
        else the same Ekman class (first such label), else ``other``'s catch-all label, else None."""
        label = self.check(label)
        folded = {lab.casefold(): lab for lab in other.labels}
        if label.casefold() in folded:
            return folded[label.casefold()]
        if label.casefold() in other.also:
            return other.also[label.casefold()]
        target = self.to_ekman(label)
        same = (lab for lab, ek in zip(other.labels, other.ekman) if target is not None and ek == target)
        return next(same, other.catch_all)

    def convert(self, label: str, target: Taxonomy) -> str | None:
        """``label`` of this set as spelled in ``target``: checked when both are the same set, else mapped.

        Returns None when the label has no equivalent in ``target``; raises on a label unknown to this set.
        """
        return target.check(label) if target.name == self.name else self.map_to(label, target)


def _from_mapping(name: str, spec: dict, origin: str) -> Taxonomy:
    if not isinstance(spec, dict) or not isinstance(spec.get("labels"), list) or not spec["labels"]:
        raise ConfigError(f"{origin}: taxonomy '{name}' needs a non-empty list `labels`")
    labels, ekman, cues, also, catch_all = [], [], {}, {}, None
    for i, item in enumerate(spec["labels"]):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise ConfigError(f"{origin}: label #{i} of taxonomy '{name}' needs a `name` string, got {item!r}")
        ek = item.get("ekman")
        if ek is not None and ek not in EKMAN:
            raise ConfigError(f"{origin}: label '{item['name']}' has ekman '{ek}'; expected one of {EKMAN}")
        labels.append(item["name"].strip())
        ekman.append(ek)
        if item.get("cue"):
            cues[item["name"].strip()] = str(item["cue"])
        if not isinstance(item.get("also", []), list):
            raise ConfigError(f"{origin}: label '{item['name']}' has `also` {item['also']!r}; expected a list of names")
        also |= {str(other).casefold(): item["name"].strip() for other in item.get("also", [])}
        if item.get("catch_all"):
            if catch_all is not None:
                raise ConfigError(f"{origin}: taxonomy '{name}' has two catch_all labels: {catch_all}, {item['name']}")
            catch_all = item["name"].strip()
    return Taxonomy(
        name=name,
        labels=tuple(labels),
        ekman=tuple(ekman),
        multi_label=bool(spec.get("multi_label", False)),
        description=str(spec.get("description", "")),
        cues=cues,
        also=also,
        catch_all=catch_all,
    )


@cache
def builtin_taxonomies() -> dict[str, Taxonomy]:
    """Every built-in label set by name (``resources/taxonomies.yaml``)."""
    text = resources.files("emosynth").joinpath("resources/taxonomies.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return {name: _from_mapping(name, spec, "taxonomies.yaml") for name, spec in raw.items()}


def load_yaml(path: str | Path) -> object:
    """Read a YAML file; a syntax error becomes one line naming file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"Malformed YAML at {where}: {problem}") from exc


def get_taxonomy(name_or_path: str | Path) -> Taxonomy:
    """A built-in taxonomy by name, or a user's own from a YAML file path."""
    key = str(name_or_path)
    builtins = builtin_taxonomies()
    if key.lower() in builtins:
        return builtins[key.lower()]
    path = Path(key)
    if path.suffix in {".yaml", ".yml"} or path.exists():
        if not path.exists():
            raise ConfigError(f"Taxonomy file not found: {path}")
        raw = load_yaml(path)
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a mapping with `name` and `labels`")
        return _from_mapping(str(raw.get("name") or path.stem), raw, str(path))
    close = difflib.get_close_matches(key.lower(), builtins, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise UnknownNameError(
        f"Unknown taxonomy '{key}'.{hint} Built-in: {', '.join(builtins)}; or give a YAML file path."
    )


@cache
def emotion_words() -> dict[str, frozenset[str]]:
    """Case-folded word forms that name each label (``resources/emotion_words.yaml``; a label missing from the
    file is its own only form): a text that contains its label's forms leaks the label."""
    with resources.as_file(resources.files("emosynth").joinpath("resources/emotion_words.yaml")) as p:
        raw = load_yaml(p)
    return {str(k).casefold(): frozenset(map(str.casefold, v)) for k, v in raw.items()}


def names_label(text_words: set[str], label: str) -> bool:
    """Whether a text's (case-folded) words include a form that names ``label``."""
    return bool(text_words & emotion_words().get(label.casefold(), frozenset({label.casefold()})))
