"""DailyDialog, the official release: ``train.zip``, ``validation.zip``, ``test.zip`` read directly.

Each zip holds ``<split>/dialogues_<split>.txt`` (one dialogue per line, utterances ended by ``__eou__``) and
``<split>/dialogues_emotion_<split>.txt`` (one integer per utterance: 0 no emotion, 1 anger, 2 disgust, 3 fear,
4 happiness, 5 sadness, 6 surprise).
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

from emosynth.errors import ConfigError
from emosynth.records import Dialogue, Turn
from emosynth.taxonomy import get_taxonomy

log = logging.getLogger(__name__)
SPLITS = {"train": "train", "dev": "validation", "validation": "validation", "test": "test"}


def _member(archive: zipfile.ZipFile, name: str, path: Path) -> list[str]:
    match = [m for m in archive.namelist() if m.endswith(name)]
    if not match:
        raise ConfigError(f"{path}: no member named {name}")
    return archive.read(match[0]).decode("utf-8").splitlines()


def read_dailydialog(split: str, root: str | Path) -> list[Dialogue]:
    """Dialogues of one split. A dialogue whose label count differs from its utterance count is reported
    (file and line) and skipped, never silently misaligned. Speakers alternate ``A`` / ``B``."""
    name = SPLITS.get(split)
    if name is None:
        raise ConfigError(f"Unknown DailyDialog split '{split}'; expected train, dev (validation) or test")
    path = Path(root) / f"{name}.zip"
    tax = get_taxonomy("dailydialog")
    try:
        with zipfile.ZipFile(path) as archive:
            texts = _member(archive, f"dialogues_{name}.txt", path)
            emotions = _member(archive, f"dialogues_emotion_{name}.txt", path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"Cannot read DailyDialog archive {path}: {exc}") from exc
    if len(texts) != len(emotions):
        raise ConfigError(f"{path}: {len(texts)} dialogues but {len(emotions)} label lines")
    dialogues = []
    for n, (line, labels) in enumerate(zip(texts, emotions), start=1):
        utterances = [u.strip() for u in line.split("__eou__")]
        utterances = utterances[:-1] if utterances and not utterances[-1] else utterances
        try:
            ids = [int(x) for x in labels.split()]
            names = [tax.labels[i] for i in ids]
        except (ValueError, IndexError):
            raise ConfigError(f"{path}:dialogues_emotion_{name}.txt:{n}: labels must be integers 0-6") from None
        if len(names) != len(utterances):
            log.warning(
                "%s:dialogues_%s.txt:%d: %d utterances but %d labels; dialogue skipped",
                path,
                name,
                n,
                len(utterances),
                len(names),
            )
            continue
        turns = [Turn("AB"[i % 2], text, emo) for i, (text, emo) in enumerate(zip(utterances, names))]
        dialogues.append(
            Dialogue(
                id=f"dailydialog-{split}-{n}",
                turns=turns,
                taxonomy="dailydialog",
                source="dailydialog",
                metadata={"split": split, "line": n},
            )
        )
    return dialogues
