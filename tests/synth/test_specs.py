from collections import Counter

import pytest

from emosynth.errors import ConfigError
from emosynth.llm.base import LLMBackend
from emosynth.synth.config import DialogueConfig
from emosynth.synth.dialogues import DialogueSynthesizer

from ..conftest import needs_data


class NoModel(LLMBackend):
    name, model_id = "none", "none"


def synth(**kw):
    return DialogueSynthesizer(DialogueConfig.create(**kw), NoModel())


def test_balanced_targets_cycle_so_every_label_gets_the_same_count():
    s = synth(mode="balanced", n=21)
    counts = Counter(s.spec(i).target for i in range(21))
    assert counts == {lab: 3 for lab in s.taxonomy.labels}
    assert all(s.spec(i).target in [p.emotion for p in s.spec(i).plan] for i in range(21))


def test_specs_are_seeded_and_within_ranges():
    s = synth(mode="natural", seed=5, min_turns=4, max_turns=6, n=30)
    specs = [s.spec(i) for i in range(30)]
    assert [x.plan for x in specs] == [
        synth(mode="natural", seed=5, min_turns=4, max_turns=6).spec(i).plan for i in range(30)
    ]
    assert all(4 <= x.n_turns <= 6 and 2 <= len(x.speakers) <= 4 and x.target is None for x in specs)
    assert len({x.topic for x in specs}) > 5 and len({n for x in specs for n in x.speakers}) > 20
    assert specs[0].plan != synth(mode="natural", seed=6, min_turns=4, max_turns=6).spec(0).plan


def test_planned_prompt_shows_cues_and_schema_fixes_speaker_and_emotion_first():
    s = synth(mode="balanced")
    spec = s.spec(3)
    request = s.request(spec, 0)
    prompt = request.messages[-1]["content"]
    assert f"Turn 1: {spec.plan[0].speaker}, {spec.plan[0].emotion} (" in prompt
    item = request.json_schema["properties"]["turns"]["prefixItems"][0]
    assert list(item["properties"]) == ["speaker", "emotion", "utterance"]
    assert item["properties"]["emotion"] == {"const": spec.plan[0].emotion}
    assert s.request(spec, 1).seed != request.seed


def test_paper_preset_lists_labels_as_numbered_symbols():
    s = synth(preset="paper", mode="balanced")
    spec = s.spec(2)
    prompt = s.request(spec, 0).messages[-1]["content"]
    assert "0: neutral, 1: joy, 2: surprise, 3: anger" in prompt
    assert "At least one utterance must express emotion 2 (surprise)" in prompt
    assert s.request(spec, 0).json_schema["properties"]["turns"]["items"]["properties"]["label"] == {
        "enum": list(range(7))
    }


@needs_data
def test_few_shot_shows_real_dialogues_and_records_them():
    from emosynth.data.meld import read_meld

    pool = read_meld("train")
    s = DialogueSynthesizer(DialogueConfig.create(mode="natural", few_shot=2), NoModel(), pool)
    spec = s.spec(0)
    prompt = s.request(spec, 0).messages[-1]["content"]
    assert len(spec.examples) == 2 and all(ex.source == "meld" for ex in spec.examples)
    assert f"{spec.examples[0].turns[0].speaker}: {spec.examples[0].turns[0].text}" in prompt
    assert "Do not copy their lines" in prompt


def test_too_few_names_for_the_cast_is_a_config_error(tmp_path):
    f = tmp_path / "sc.yaml"
    f.write_text("names: [A, B, C, D]\ntopics: [t]\nsettings: [s]\nrelationships: [r]\n")
    with pytest.raises(ConfigError, match="4 distinct names cannot fill max_speakers=6"):
        synth(scenario_file=str(f), max_speakers=6)


def test_natural_and_balanced_runs_with_one_seed_share_no_prompt():
    natural, balanced = synth(mode="natural", seed=0), synth(mode="balanced", seed=0)
    prompts_n = {natural.request(natural.spec(i), 0).messages[-1]["content"] for i in range(70)}
    prompts_b = {balanced.request(balanced.spec(i), 0).messages[-1]["content"] for i in range(70)}
    assert not prompts_n & prompts_b


def test_each_turn_draws_one_of_its_labels_cue_phrasings_and_the_plans_stay_the_same():
    with_cues, without = synth(mode="natural", n=40), synth(mode="natural", n=40, cues=False)
    plans = [with_cues.spec(i).plan for i in range(40)]
    assert [[(p.speaker, p.emotion) for p in plan] for plan in plans] == [
        [(p.speaker, p.emotion) for p in without.spec(i).plan] for i in range(40)
    ]
    shown: dict[str, set] = {}
    for plan in plans:
        for p in plan:
            assert p.cue in with_cues.cues.phrasings[p.emotion] and '"' not in p.cue  # no quoted opener to copy
            shown.setdefault(p.emotion, set()).add(p.cue)
    assert all(
        len(cues) >= 2 for label, cues in shown.items() if sum(1 for pl in plans for p in pl if p.emotion == label) >= 8
    )
    assert with_cues.config_record()["cues_version"] == 3 and "cues_version" not in without.config_record()


def test_a_cue_file_with_one_phrasing_per_label_still_reads(tmp_path):
    f = tmp_path / "cues.yaml"
    f.write_text("labels:\n  joy: happy words\n  anger: [loud, sharp]\n")
    s = synth(mode="balanced", cue_file=str(f))
    assert s.cues.phrasings["joy"] == ("happy words",) and s.cues.phrasings["anger"] == ("loud", "sharp")
    f.write_text("labels:\n  joy: 3\n")
    with pytest.raises(ConfigError, match="label -> cue text or a list of them"):
        synth(cue_file=str(f))
