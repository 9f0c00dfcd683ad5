"""One utterance per line ``speaker<TAB>utterance<TAB>label``, dialogues separated by a blank line.

The format of CoMPM's data files: EmoryNLP full release (``compm_full/EMORY_*.txt``) and IEMOCAP (``*_train.txt``).
"""

from __future__ import annotations

from pathlib import Path

from emosynth.errors import ConfigError
from emosynth.records import Dialogue, Turn
from emosynth.taxonomy import Taxonomy

# IEMOCAP files in ERC papers use short codes.
LABEL_ALIASES = {"hap": "happy", "neu": "neutral", "ang": "angry", "exc": "excited", "fru": "frustrated"}


def read_turn_tsv(path: str | Path, taxonomy: Taxonomy, source: str, split: str = "") -> list[Dialogue]:
    """Dialogues from a ``speaker<TAB>utterance<TAB>label`` file, a blank line between dialogues (CoMPM's layout)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}") from exc
    dialogues: list[Dialogue] = []
    turns: list[Turn] = []

    def close() -> None:
        if turns:
            dialogues.append(
                Dialogue(
                    id=f"{source}-{split}-{len(dialogues)}",
                    turns=list(turns),
                    taxonomy=taxonomy.name,
                    source=source,
                    metadata={"split": split},
                )
            )
            turns.clear()

    for n, line in enumerate(lines, start=1):
        if not line.strip():
            close()
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ConfigError(f"{path}:{n}: expected speaker<TAB>utterance<TAB>label, got {len(parts)} fields")
        speaker, text, label = (p.strip() for p in parts)
        emotion = taxonomy.check(LABEL_ALIASES.get(label, label), f"{path}:{n}")
        turns.append(Turn(speaker=speaker, text=text, emotion=emotion))
    close()
    return dialogues
