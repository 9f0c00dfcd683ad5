"""Recompute the shipped emotion-transition statistics from the benchmarks' train splits.

python scripts/compute_transitions.py   # reads $EMOSYNTH_DATA or ../shared/data
"""

from pathlib import Path

from emosynth.data.emorynlp import read_emorynlp
from emosynth.data.meld import read_meld
from emosynth.synth.planning import TransitionModel
from emosynth.taxonomy import get_taxonomy

OUT = Path(__file__).resolve().parents[1] / "src/emosynth/resources/transitions"

if __name__ == "__main__":
    for name, dialogues, source in [
        ("meld", read_meld("train"), "MELD train_sent_emo.csv (1,038 dialogues)"),
        ("emorynlp", read_emorynlp("train", "csv"), "EmoryNLP emorynlp_train_final.csv (659 scenes)"),
    ]:
        TransitionModel.fit(dialogues, get_taxonomy(name), source).save(OUT / f"{name}.json")
        print("wrote", OUT / f"{name}.json")
