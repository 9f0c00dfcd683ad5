"""The package's floors: data flows one way, and no module imports from a floor above its own."""

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "emosynth"
# lowest first; a module imports only from lower floors or from its own package
FLOORS = [
    {"errors", "records", "text"},
    {"taxonomy"},
    {"judge", "data"},
    {"llm", "train"},
    {"synth"},
    {"quality"},
    {"experiment", "review"},
    {"report"},
    {"cli", "__init__"},
    {"__main__"},
]


def floor(part: str) -> int:
    return next(i for i, names in enumerate(FLOORS) if part in names)


def imported(path: Path) -> set[str]:
    """The top-level emosynth modules/packages a file imports (module-level and inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        out |= {n.split(".")[1] for n in names if n.startswith("emosynth.")}
    return out


def test_every_module_sits_on_a_known_floor():
    for path in SRC.rglob("*.py"):
        part = path.relative_to(SRC).parts[0].removesuffix(".py")
        assert any(part in names for names in FLOORS), f"{path}: name its floor here and in its docstring"


def test_no_module_imports_from_a_higher_floor_or_a_sibling_package():
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        own = path.relative_to(SRC).parts[0].removesuffix(".py")
        for other in imported(path) - {own}:
            if floor(other) >= floor(own):
                wrong.append(f"{path.relative_to(SRC)} imports emosynth.{other}")
    assert wrong == []


def test_modules_stay_small():
    sizes = {str(p.relative_to(SRC)): len(p.read_text().splitlines()) for p in SRC.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 300} == {}
