"""The experiment grid end to end with a tiny encoder on a toy MELD-format benchmark."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emosynth.data.export import export_dialogues
from emosynth.data.io import JsonlWriter
from emosynth.errors import ConfigError
from emosynth.experiment.config import ExperimentConfig
from emosynth.experiment.runner import collect, run_cell, run_experiment
from emosynth.experiment.stats import analyse
from emosynth.train.todkat import architecture

from ..train.test_sequence import toy_dialogues


def write_toy_experiment(tmp_path, backbone):
    """A MELD-format toy benchmark, a synthetic JSONL and a 3 regimes x 3 seeds config; returns its path."""
    root = tmp_path / "meld"
    for split, n in (("train", 12), ("dev", 6), ("test", 6)):
        export_dialogues(toy_dialogues(n), root / f"{split}_sent_emo.csv", "meld-csv")
    with JsonlWriter(tmp_path / "synthetic.jsonl") as w:
        for d in toy_dialogues(9):
            w.write(d.to_dict())
    config = {
        "name": "toy",
        "benchmarks": ["meld"],
        "models": ["utterance"],
        "regimes": ["real", "synthetic->real", "mixed"],
        "synthetic": {"meld": {"toy": "synthetic.jsonl"}},
        "seeds": [0, 1, 2],
        "training": {"epochs": 12, "learning_rate": 3e-3, "batch_size": 8},
        "max_length": {"utterance": 32},
        "backbone": str(backbone),
        "data_root": str(root),
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def toy_experiment(tiny_bert, tmp_path):
    return write_toy_experiment(tmp_path, tiny_bert)


class Spy:
    """Counts the cells it runs and runs them for real."""

    def __init__(self):
        self.cells = []

    def __call__(self, cell, config, out_dir):
        self.cells.append(cell)
        return run_cell(cell, config, out_dir)


def test_grid_runs_every_cell_once_and_a_rerun_skips_finished_ones(toy_experiment, tmp_path):
    config = ExperimentConfig.load(toy_experiment)
    assert config.synthetic["meld"]["toy"] == str(tmp_path / "synthetic.jsonl")  # relative to the config
    assert len(config.cells()) == 9 and {c.treatment for c in config.cells()} == {
        "real",
        "synthetic->real:toy",
        "mixed:toy",
    }
    out = tmp_path / "exp"
    spy = Spy()
    rows, _ = run_experiment(config, out, run=spy, limit=4)
    assert len(spy.cells) == 4 and len(rows) == 4
    # seed by seed: the first three cells are one complete block (every regime, seed 0)
    assert [c.seed for c in spy.cells] == [0, 0, 0, 1] and len({c.treatment for c in spy.cells[:3]}) == 3
    rows, stats = run_experiment(config, out, run=spy)
    assert len(spy.cells) == 9 and len(rows) == 9 and len(set(spy.cells)) == 9
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert [r["treatment"] for r in lines[:3]] == ["real"] * 3 and all(0 <= r["score"] <= 1 for r in lines)
    assert lines[3]["n_synthetic"] == 27 and lines[0]["metric"] == "weighted_f1"
    assert not any(out.rglob("model"))  # save_models is off by default
    run_experiment(config, out, run=spy)
    assert len(spy.cells) == 9  # nothing left to do

    # a cell killed half-way (its folder without results.json) is started again from nothing
    victim = config.cells()[4]  # results.jsonl keeps the grid's order: benchmark, model, treatment, seed
    shutil.rmtree(victim.path(out))
    victim.path(out).mkdir(parents=True)
    (victim.path(out) / "results.json.tmp").write_text("{half")
    run_experiment(config, out, run=spy)
    assert spy.cells[9:] == [victim] and not (victim.path(out) / "results.json.tmp").exists()
    assert len(collect(config, out)[0]) == 9
    assert json.loads((out / "friedman.json").read_text()) == stats


def test_bad_configs_name_the_file_and_the_setting(toy_experiment, tmp_path):
    raw = yaml.safe_load(toy_experiment.read_text())
    for change, message in [
        ({"regimes": ["real", "synthetic-to-real"]}, "regimes: .*unknown regime 'synthetic-to-real'"),
        ({"models": ["bert"]}, "unknown model 'bert'"),
        ({"synthetic": {}}, "need synthetic datasets for: meld"),
        ({"synthetic": {"meld": {"x": "missing.jsonl"}}}, "synthetic dataset missing.jsonl not found"),
        ({"epochs": 3}, "epochs: Extra inputs are not permitted"),
        ({"seeds": [0, 0]}, "seeds: .*repeats an entry"),
        ({"benchmarks": ["friends"]}, "unknown benchmark 'friends'"),
        ({"max_length": {"bert": 64}}, "max_length for unknown model 'bert'"),
        ({"relations": ["xWant"]}, "relations are TODKAT's; add todkat to models"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(yaml.safe_dump(raw | change))
        with pytest.raises(ConfigError, match=message):
            ExperimentConfig.load(bad)


def test_changed_settings_are_refused_instead_of_mixing_results(toy_experiment, tmp_path):
    config = ExperimentConfig.load(toy_experiment)
    out = tmp_path / "exp"
    run_experiment(config, out, limit=1)
    changed = config.model_copy(update={"training": config.training.model_copy(update={"epochs": 2})})
    with pytest.raises(ConfigError, match="trained with training="):
        run_experiment(changed, out)
    # the same settings written into the cells: also caught when config.yaml is the user's own edited file
    (out / "config.yaml").unlink()
    with pytest.raises(ConfigError, match="was trained with epochs=12 \\(now 2\\)"):
        run_experiment(changed, out)
    assert not (out / "config.yaml").exists()  # a refused run leaves no config that disagrees with the cells
    assert len(collect(config, out)[0]) == 1
    with pytest.raises(ConfigError, match="was trained with train_size=None \\(now 5\\)"):
        run_experiment(config.model_copy(update={"train_size": 5}), out)


def waiting_grid(toy_experiment, tmp_path, synthetic, **more) -> Path:
    """The toy grid (real and synthetic->real, seed 0) with ``synthetic`` naming a file ``later.jsonl`` still to
    come: it does not load whole."""
    raw = yaml.safe_load(toy_experiment.read_text())
    raw |= {"synthetic": synthetic(raw["synthetic"]), "seeds": [0], "regimes": ["real", "synthetic->real"]} | more
    path = tmp_path / "waiting.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="synthetic dataset later.jsonl not found"):
        ExperimentConfig.load(path)
    return path


def test_one_benchmark_runs_before_the_files_of_the_others_exist(toy_experiment, tmp_path):
    later = {"emorynlp": {"toy": "later.jsonl"}}
    path = waiting_grid(toy_experiment, tmp_path, lambda s: s | later, benchmarks=["meld", "emorynlp"])
    with pytest.raises(ConfigError, match="benchmark 'friends' is not in its benchmarks \\(meld, emorynlp\\)"):
        ExperimentConfig.load(path, only=["friends"])
    config, out, spy = ExperimentConfig.load(path, only=["meld"]), tmp_path / "exp", Spy()
    rows, _ = run_experiment(config, out, run=spy, only=["meld"])
    assert [(c.benchmark, c.treatment) for c in spy.cells] == [("meld", "real"), ("meld", "synthetic->real:toy")]
    assert len(rows) == 2
    run_experiment(config, out, run=spy, only=["meld"])  # the saved config names the missing file: still loads
    assert len(spy.cells) == 2
    # the report of the grid part-way reads the benchmark whose files exist and counts the whole grid
    from emosynth.report.build import build_report

    _, md = build_report(out, semantic=False)
    text = md.read_text()
    assert "2 of 4 cells finished" in text and "Benchmarks meld, emorynlp" in text
    assert json.loads((out / "quality.json").read_text())["key"]["benchmarks"] == ["meld"]
    # once the file is there the whole grid loads, and the cells already run count as finished
    shutil.copy(tmp_path / "synthetic.jsonl", tmp_path / "later.jsonl")
    rows, _ = run_experiment(ExperimentConfig.load(path), out, run=spy, limit=0)
    assert len(rows) == 2 and len(spy.cells) == 2


def test_chosen_treatments_run_before_the_files_of_the_others_exist(toy_experiment, tmp_path):
    path = waiting_grid(toy_experiment, tmp_path, lambda s: {"meld": s["meld"] | {"later": "later.jsonl"}})
    with pytest.raises(ConfigError, match="treatment 'later2' is neither real nor a synthetic dataset name"):
        ExperimentConfig.load(path, treatments=["later2"])
    out, spy = tmp_path / "exp", Spy()
    rows, _ = run_experiment(ExperimentConfig.load(path, treatments=["real"]), out, run=spy, treatments=["real"])
    assert [c.treatment for c in spy.cells] == ["real"] and len(rows) == 1
    rows, _ = run_experiment(ExperimentConfig.load(path, treatments=["toy"]), out, run=spy, treatments=["toy"])
    assert [c.treatment for c in spy.cells] == ["real", "synthetic->real:toy"] and len(rows) == 2
    # a size larger than the file holds (a sample still being generated) stops the run before any cell trains
    config = ExperimentConfig.load(path, treatments=["toy"]).model_copy(update={"sizes": {"toy": 10**6}})
    with pytest.raises(ConfigError, match=r"synthetic.jsonl has \d+ records and 'toy' asks for 1000000: generate"):
        run_experiment(config, tmp_path / "big", run=spy, treatments=["toy"])
    assert len(spy.cells) == 2
    cell = next(c for c in config.cells() if c.dataset == "toy")
    with pytest.raises(ConfigError, match="fewer than the 1000000 asked for"):  # emosynth train reads it the same
        run_cell(cell, config, tmp_path / "cell")
    saved = ExperimentConfig.load(out / "config.yaml", treatments=["real"])
    assert saved.synthetic["meld"].keys() == {"toy", "later"}
    assert saved.ready().synthetic == {"meld": {"toy": str(tmp_path / "synthetic.jsonl")}}  # what a report reads


def test_chosen_models_run_first_and_an_unknown_one_is_refused(toy_experiment, tmp_path):
    grid = {"models": ["utterance", "context"], "regimes": ["real"], "seeds": [0, 1]}
    config = ExperimentConfig.load(toy_experiment).model_copy(update=grid)
    out, spy = tmp_path / "exp", Spy()
    with pytest.raises(ConfigError, match="model compm is not in the grid; it has utterance, context"):
        run_experiment(config, out, run=spy, models=["compm"])
    rows, _ = run_experiment(config, out, run=spy, models=["context"])
    assert [(c.model, c.seed) for c in spy.cells] == [("context", 0), ("context", 1)] and len(rows) == 2
    rows, _ = run_experiment(config, out, run=spy)  # then the rest
    assert [c.model for c in spy.cells[2:]] == ["utterance", "utterance"] and len(rows) == 4


def test_a_cell_another_process_trains_is_left_to_it_and_redone_once_that_process_dies(toy_experiment, tmp_path):
    config = ExperimentConfig.load(toy_experiment).model_copy(update={"regimes": ["real"], "seeds": [0, 1, 2]})
    out, spy = tmp_path / "exp", Spy()
    with pytest.raises(ConfigError, match="seed 7 is not in the grid; it has 0, 1, 2"):
        run_experiment(config, out, run=spy, seeds=[7])
    busy = config.cells()[0]
    assert busy.seed == 0
    busy.path(out).mkdir(parents=True)
    (busy.path(out) / "train.log").write_text("epoch 1 of 12\n")  # what the other process has written so far
    hold = (  # another process training that cell: it holds the lock until killed
        "import sys, filelock; lock = filelock.FileLock(sys.argv[1]); lock.acquire(); print(1, flush=True); input()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(out / "cells/meld/utterance/real/seed0.lock")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "1\n"  # it holds the lock now
        rows, _ = run_experiment(config, out, run=spy, seeds=[0, 1])
        assert [c.seed for c in spy.cells] == [1] and len(rows) == 1  # seed 2 not asked for, seed 0 taken
        assert (busy.path(out) / "train.log").read_text() == "epoch 1 of 12\n"  # its files are left alone
    finally:
        holder.kill()
        holder.wait()
    rows, _ = run_experiment(config, out, run=spy)  # the holder died half-way: its cell starts again from nothing
    assert [c.seed for c in spy.cells[1:]] == [0, 2] and len(rows) == 3
    assert not (busy.path(out) / "train.log").exists() and (busy.path(out) / "results.json").is_file()


def test_fewer_threads_change_how_cells_run_not_which_are_finished(toy_experiment, tmp_path):
    config = ExperimentConfig.load(toy_experiment).model_copy(update={"regimes": ["real"], "seeds": [0, 1]})
    out, spy = tmp_path / "exp", Spy()
    run_experiment(config, out, run=spy, threads=1, limit=1)
    result = json.loads((out / "cells" / "meld" / "utterance" / "real" / "seed0" / "results.json").read_text())
    assert result["config"]["training"]["threads"] == 1
    assert yaml.safe_load((out / "config.yaml").read_text())["training"].get("threads") is None
    rows, _ = run_experiment(config, out, run=spy)  # all cores now: the finished cell stands, the other runs
    assert [c.seed for c in spy.cells] == [0, 1] and len(rows) == 2


def test_a_low_resource_grid_trains_every_regime_on_a_sample_of_the_real_split(toy_experiment, tmp_path):
    config = ExperimentConfig.load(toy_experiment).model_copy(update={"train_size": 20, "seeds": [0]})
    rows, _ = run_experiment(config, tmp_path / "low")
    assert [r["train_size"] for r in rows] == [20, 20, 20]
    results = {
        r["treatment"]: json.loads(
            (tmp_path / "low" / "cells" / "meld" / "utterance" / slug / "seed0" / "results.json").read_text()
        )
        for r, slug in zip(rows, ("real", "synthetic2real_toy", "mixed_toy"))
    }
    assert {r["data"]["n_train_available"] for r in results.values()} == {sum(len(d.turns) for d in toy_dialogues(12))}


def test_cells_follow_the_data_by_content_not_by_path(toy_experiment, tmp_path):
    config = ExperimentConfig.load(toy_experiment)
    out = tmp_path / "exp"
    run_experiment(config, out, limit=2)  # seed 0: real, synthetic->real:toy
    # the experiment and its data moved to another checkout: nothing to redo
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("config.yaml", "synthetic.jsonl"):
        shutil.copy(tmp_path / name, clone / name)
    shutil.copytree(out, clone / "exp")
    spy = Spy()
    moved = ExperimentConfig.load(clone / "config.yaml")
    assert len(run_experiment(moved, clone / "exp", run=spy, limit=0)[0]) == 2 and spy.cells == []
    # a results.json cut short (disk full, copied half-way) is not a finished cell: it runs again
    cut = config.cells()[3]  # synthetic->real:toy seed 0 (grid order: treatment, then seed)
    assert cut.treatment == "synthetic->real:toy" and cut.seed == 0
    (cut.path(clone / "exp") / "results.json").write_text('{"weighted_f1": 0.')
    run_experiment(moved, clone / "exp", run=spy, limit=1)
    assert [(c.treatment, c.seed) for c in spy.cells] == [(cut.treatment, cut.seed)]
    # the synthetic data rewritten in place (say, filtered again): its cells are stale, the real one is not
    with open(tmp_path / "synthetic.jsonl", "a") as fh:
        fh.write(json.dumps(toy_dialogues(1)[0].to_dict()) + "\n")
    with pytest.raises(ConfigError, match="trained with another version of .*synthetic.jsonl \\(sha256"):
        run_experiment(config, out)


def test_cli_experiment_runs_cells_and_reports_the_statistics(toy_experiment, tmp_path):
    out = tmp_path / "cli-exp"
    cmd = [sys.executable, "-m", "emosynth", "experiment", str(toy_experiment), "-o", str(out), "--no-report"]
    run = subprocess.run([*cmd, "--seed", "1"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == f"3 of 9 cells finished -> {out}/results.jsonl"
    assert sorted(p.parent.name for p in out.rglob("results.json")) == ["seed1"] * 3
    stats = json.loads((out / "friedman.json").read_text())
    assert stats["ok"] is False and f"no Friedman test: {stats['reason']}" in run.stdout
    assert len((out / "results.jsonl").read_text().splitlines()) == 3 and not (out / "report.html").exists()
    bad = subprocess.run([*cmd[:4], str(tmp_path / "missing.yaml")], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.startswith("error: Cannot read")


def test_sizes_give_nested_subsets_and_controls_keep_texts_or_take_real_turns(toy_experiment, tmp_path):
    from emosynth.data.io import read_dialogues
    from emosynth.taxonomy import get_taxonomy
    from emosynth.train.items import turn_items
    from emosynth.train.regimes import controlled

    raw = yaml.safe_load(toy_experiment.read_text())
    raw |= {
        "regimes": ["real", "synthetic->real"],
        "synthetic": {"meld": {f"n{k}": "synthetic.jsonl" for k in (3, 6)} | {"shuffled": "synthetic.jsonl"}},
        "sizes": {"n3": 3, "n6": 6, "shuffled": 6},
        "controls": {"shuffled": "shuffled-labels"},
        "seeds": [0],
        "training": {"epochs": 1, "learning_rate": 3e-3, "batch_size": 8},
    }
    toy_experiment.write_text(yaml.safe_dump(raw))
    rows, _ = run_experiment(ExperimentConfig.load(toy_experiment), tmp_path / "curve")
    assert {r["treatment"]: r["n_synthetic"] for r in rows} == {
        "real": 0,
        "synthetic->real:n3": 9,  # 3 dialogues x 3 turns: the first 3 of the file
        "synthetic->real:n6": 18,
        "synthetic->real:shuffled": 18,
    }
    # the transfer curve: sizes in dialogues (0: real only), the control named, selection read from the config
    from emosynth.experiment.curve import curve_points, selection_of
    from emosynth.report.build import build_report
    from emosynth.report.plots import curve_plot

    points = curve_points(ExperimentConfig.load(toy_experiment), rows)
    got = sorted((p["dataset"] or "", p["synthetic_size"], p["control"], p["selection"]) for p in points)
    assert got == [
        ("", 0, "none", "none"),
        ("n3", 3, "none", "none"),
        ("n6", 6, "none", "none"),
        ("shuffled", 6, "shuffled-labels", "none"),
    ]
    assert all(p["weighted_f1"] == r["score"] for p, r in zip(points, rows))
    assert curve_plot(points).startswith(b"\x89PNG") and curve_plot([p for p in points if not p["dataset"]]) is None
    (tmp_path / "bon.config.json").write_text('{"best_of": 4}')
    assert selection_of(str(tmp_path / "bon.jsonl")) == "best-of-n"
    assert selection_of(str(tmp_path / "x.jsonl")) == "none"
    build_report(tmp_path / "curve", semantic=False)
    report = (tmp_path / "curve" / "report.md").read_text()
    assert "![transfer curve](plots/curve.png)" in report
    # one card for the file, naming how each dataset reads it; quality of each subset as read, controls left out
    assert report.count("synthetic.jsonl`)") == 1 and "- **meld/n3, n6, shuffled** " in report
    assert "read as n3 (first 3); n6 (first 6); shuffled (first 6, control: shuffled-labels)" in report
    assert "| | n3 | n6 | meld:train |" in report and "| dialogues | 3 | 6 |" in report
    assert (tmp_path / "curve" / "plots" / "curve.png").is_file()
    # the controls themselves: the same texts with the labels permuted, or as many real turns
    meld = get_taxonomy("meld")
    synthetic = turn_items(read_dialogues(tmp_path / "synthetic.jsonl")[:6], meld)
    real = turn_items(toy_dialogues(12), meld)
    shuffled = controlled(synthetic, "shuffled-labels", real, seed=0)
    assert [i.text for i in shuffled] == [i.text for i in synthetic]
    assert sorted(i.label for i in shuffled) == sorted(i.label for i in synthetic)
    assert [i.label for i in shuffled] != [i.label for i in synthetic]
    warm = controlled(synthetic, "real-warm-start", real, seed=0)
    assert len(warm) == len(synthetic) and all(item in real for item in warm)
    raw["controls"] = {"nothing": "shuffled-labels"}
    toy_experiment.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="controls: 'nothing' is not a synthetic dataset name"):
        ExperimentConfig.load(toy_experiment)


def test_todkat_cells_read_their_benchmarks_knowledge_and_a_grown_file_makes_them_stale(
    toy_experiment, tmp_path, monkeypatch
):
    raw = yaml.safe_load(toy_experiment.read_text())
    turns = {t.text for d in toy_dialogues(12) for t in d.turns}
    known = sorted(turns)[: len(turns) // 2]
    knowledge = tmp_path / "knowledge.jsonl"
    knowledge.write_text("".join(json.dumps({"text": t, "relations": {"xReact": "moved"}}) + "\n" for t in known))
    raw |= {"models": ["todkat"], "regimes": ["real"], "seeds": [0], "knowledge": {"meld": "knowledge.jsonl"}}
    raw["training"] |= {"epochs": 1}
    (tmp_path / "todkat.yaml").write_text(yaml.safe_dump(raw | {"max_length": {}}))
    config = ExperimentConfig.load(tmp_path / "todkat.yaml")
    assert config.knowledge == {"meld": str(knowledge)}  # resolved from the config's folder
    # half the turns have knowledge: a knowledge pass still under way; no cell trains on the empty slot unasked
    with pytest.raises(
        ConfigError, match=r"knowledge for \d+% of the train turns, less than min_knowledge_coverage 0.9"
    ):
        run_experiment(config, tmp_path / "exp")
    assert not list((tmp_path / "exp").rglob("results.json"))
    raw["min_knowledge_coverage"] = 0  # a pilot: train anyway
    (tmp_path / "todkat.yaml").write_text(yaml.safe_dump(raw | {"max_length": {}}))
    config = ExperimentConfig.load(tmp_path / "todkat.yaml")
    monkeypatch.chdir(tmp_path)  # the checkout: what is inside it is recorded relative to it
    run_experiment(config, tmp_path / "exp")
    [cell] = config.cells()
    result = json.loads((cell.path(tmp_path / "exp") / "results.json").read_text())
    record = result["data"]["knowledge"]
    assert record["file"] == result["config"]["knowledge"] == "knowledge.jsonl"
    assert yaml.safe_load((tmp_path / "exp" / "config.yaml").read_text())["knowledge"] == {"meld": "knowledge.jsonl"}
    # the toy splits draw on the same lines, so each part has some of its turns covered, none all
    assert all(0 < share < 1 for part, share in record["coverage"].items() if part != "synthetic")
    # TODKAT's own settings (code defaults) are recorded: a cell built with others is not the cell configured now
    assert result["architecture"] == architecture() and result["architecture"]["topic_weight"] == 0.1
    path = cell.path(tmp_path / "exp") / "results.json"
    kept = path.read_text()
    path.write_text(json.dumps(result | {"architecture": architecture() | {"topic_weight": 0.2}}))
    with pytest.raises(ConfigError, match=r"trained with TODKAT topic_weight=0.2 \(now 0.1\)"):
        run_experiment(config, tmp_path / "exp")
    path.write_text(kept)
    fewer = config.model_copy(update={"relations": ["xWant"]})  # an ablation is not the cell already run
    with pytest.raises(ConfigError, match=r"trained with relations=None \(now \['xWant'\]\)"):
        run_experiment(fewer, tmp_path / "exp")
    with open(knowledge, "a") as fh:  # the knowledge pass went on: the cell was trained with less
        fh.write(json.dumps({"text": sorted(turns)[-1], "relations": {"xReact": "glad"}}) + "\n")
    with pytest.raises(ConfigError, match=r"another knowledge file \(.*knowledge.jsonl\), or another version of it"):
        run_experiment(config, tmp_path / "exp")
    # another benchmark's knowledge pass still to come: its cells wait, this one's are checked and run
    later = {"meld": "knowledge.jsonl", "emorynlp": "later.jsonl"}
    two = raw | {"benchmarks": ["meld", "emorynlp"], "knowledge": later}
    (tmp_path / "two.yaml").write_text(yaml.safe_dump(two | {"max_length": {}}))
    with pytest.raises(ConfigError, match="knowledge file later.jsonl not found"):
        ExperimentConfig.load(tmp_path / "two.yaml")
    waiting = ExperimentConfig.load(tmp_path / "two.yaml", only=["meld"])
    assert run_experiment(waiting, tmp_path / "exp2", run=Spy(), limit=0, only=["meld"]) == ([], analyse([]))
    for change, message in [
        ({"knowledge": {"emorynlp": "knowledge.jsonl"}}, "knowledge names 'emorynlp', which is not in benchmarks"),
        ({"models": ["utterance"]}, "knowledge is TODKAT's; add todkat to models"),
        ({"knowledge": {"meld": "gone.jsonl"}}, "knowledge file gone.jsonl not found"),
        ({"relations": ["xWant", "xFeel"]}, "relations: some of xIntent, xReact"),
    ]:
        (tmp_path / "bad.yaml").write_text(yaml.safe_dump(raw | change))
        with pytest.raises(ConfigError, match=message):
            ExperimentConfig.load(tmp_path / "bad.yaml")


def test_a_cell_of_the_first_records_stays_finished_while_its_file_grows(toy_experiment, tmp_path):
    raw = yaml.safe_load(toy_experiment.read_text())
    raw |= {"regimes": ["synthetic->real"], "sizes": {"toy": 3}, "seeds": [0], "training": {"epochs": 1}}
    toy_experiment.write_text(yaml.safe_dump(raw))
    config, out, spy = ExperimentConfig.load(toy_experiment), tmp_path / "exp", Spy()
    run_experiment(config, out, run=spy)
    data = tmp_path / "synthetic.jsonl"
    lines = data.read_text().splitlines(keepends=True)
    with open(data, "a") as fh:  # the sample is still being generated: records appended past the cell's 3
        fh.write(json.dumps(toy_dialogues(1)[0].to_dict()) + "\n")
    rows, _ = run_experiment(config, out, run=spy)
    assert len(rows) == 1 and len(spy.cells) == 1  # nothing to redo
    # one of the 3 records it trained on changed: the cell is stale
    data.write_text(lines[1] + lines[0] + "".join(lines[2:]))
    with pytest.raises(ConfigError, match="trained with another version of .*synthetic.jsonl \\(sha256"):
        run_experiment(config, out, run=spy)
    # a cell recorded before records were hashed is compared by the whole file, as it was then
    data.write_text("".join(lines))
    results = out / "cells" / "meld" / "utterance" / "synthetic2real_toy" / "seed0" / "results.json"
    recorded = json.loads(results.read_text())
    del recorded["data"]["synthetic_records_sha256"]
    results.write_text(json.dumps(recorded))
    assert len(run_experiment(config, out, run=spy)[0]) == 1
    with open(data, "a") as fh:
        fh.write(json.dumps(toy_dialogues(1)[0].to_dict()) + "\n")
    with pytest.raises(ConfigError, match="trained with another version"):
        run_experiment(config, out, run=spy)
