"""Export dialogues: Parquet / Hugging Face ``datasets`` (one row per dialogue, turns nested), and the
benchmarks' own layouts (MELD CSV, EmoryNLP CSV, CoMPM/IEMOCAP turn TSV) so existing ERC code reads them."""

from __future__ import annotations

import csv
from pathlib import Path

from emosynth.data.meld import COLUMNS as MELD_COLUMNS
from emosynth.errors import ConfigError, requires
from emosynth.records import Dialogue
from emosynth.taxonomy import get_taxonomy

FORMATS = ("parquet", "hf", "meld-csv", "emorynlp-csv", "turn-tsv")
# Sentiment of each MELD emotion; surprise is split in MELD train (614 negative / 591 positive): majority kept.
MELD_SENTIMENT = {
    "neutral": "neutral",
    "joy": "positive",
    "surprise": "negative",
    "anger": "negative",
    "sadness": "negative",
    "disgust": "negative",
    "fear": "negative",
}
EMORYNLP_COLUMNS = [
    "Utterance",
    "Speaker",
    "Emotion",
    "Scene_ID",
    "Utterance_ID",
    "Season",
    "Episode",
    "Start_Time",
    "End_Time",
]


def _labels_in(dialogues: list[Dialogue], target: str) -> list[list[str]]:
    """Each dialogue's emotions in taxonomy ``target`` (mapped through the shared Ekman mapping if needed)."""
    dst = get_taxonomy(target)
    out = []
    for d in dialogues:
        src = get_taxonomy(d.taxonomy)
        mapped = []
        for t in d.turns:
            label = src.convert(t.emotion, dst)
            if label is None:
                raise ConfigError(f"Dialogue {d.id}: label '{t.emotion}' ({src.name}) has no {dst.name} equivalent")
            mapped.append(label)
        out.append(mapped)
    return out


def _rows(dialogues: list[Dialogue]) -> list[dict]:
    return [
        d.to_dict() | {"turns": [dict(speaker=t.speaker, text=t.text, emotion=t.emotion) for t in d.turns]}
        for d in dialogues
    ]


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def export_dialogues(dialogues: list[Dialogue], output: str | Path, fmt: str) -> int:
    """Write ``dialogues`` to ``output`` in ``fmt``; returns the number of rows written."""
    output = Path(output)
    if fmt not in FORMATS:
        raise ConfigError(f"Unknown export format '{fmt}'; expected one of {', '.join(FORMATS)}")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        return _EXPORTERS[fmt](dialogues, output)
    except OSError as exc:
        raise ConfigError(f"Cannot write {output}: {exc.strerror}") from exc


def _parquet(dialogues: list[Dialogue], output: Path) -> int:
    pa = requires("pyarrow", "export")
    pq = requires("pyarrow.parquet", "export", "pyarrow")
    rows = _rows(dialogues)
    for r in rows:
        r["metadata"] = str(r["metadata"])
    pq.write_table(pa.Table.from_pylist(rows), output)
    return len(rows)


def _hf(dialogues: list[Dialogue], output: Path) -> int:
    datasets = requires("datasets", "export")
    rows = _rows(dialogues)
    for r in rows:
        r["metadata"] = str(r["metadata"])
    datasets.Dataset.from_list(rows).save_to_disk(str(output))
    return len(rows)


def _meld_csv(dialogues: list[Dialogue], output: Path) -> int:
    rows, sr = [], 1
    for did, (d, labels) in enumerate(zip(dialogues, _labels_in(dialogues, "meld"))):
        for uid, (t, emotion) in enumerate(zip(d.turns, labels)):
            rows.append([sr, t.text, t.speaker, emotion, MELD_SENTIMENT[emotion], did, uid, 0, 0, "", ""])
            sr += 1
    _write_csv(output, MELD_COLUMNS, rows)
    return len(rows)


def _emorynlp_csv(dialogues: list[Dialogue], output: Path) -> int:
    rows = []
    for scene, (d, labels) in enumerate(zip(dialogues, _labels_in(dialogues, "emorynlp")), start=1):
        for uid, (t, emotion) in enumerate(zip(d.turns, labels), start=1):
            rows.append([t.text, repr([t.speaker]), emotion, scene, uid, 0, 0, "", ""])
    _write_csv(output, EMORYNLP_COLUMNS, rows)
    return len(rows)


def _turn_tsv(dialogues: list[Dialogue], output: Path) -> int:
    n = 0
    with open(output, "w", encoding="utf-8") as fh:
        for d in dialogues:
            for t in d.turns:
                fh.write(f"{t.speaker}\t{' '.join(t.text.split())}\t{t.emotion}\n")
                n += 1
            fh.write("\n")
    return n


_EXPORTERS = {
    "parquet": _parquet,
    "hf": _hf,
    "meld-csv": _meld_csv,
    "emorynlp-csv": _emorynlp_csv,
    "turn-tsv": _turn_tsv,
}
