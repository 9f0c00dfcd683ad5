"""The report of a finished toy experiment, rendered in headless Chromium."""

import base64
import json
import os
import subprocess
import sys

import pytest

from emosynth.errors import ConfigError
from emosynth.experiment.config import ExperimentConfig
from emosynth.experiment.runner import run_experiment
from emosynth.report.build import build_report

from ..conftest import chrome
from ..experiment.test_runner import write_toy_experiment


@pytest.fixture(scope="module")
def finished_experiment(tiny_bert, tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    out = base / "exp"
    run_experiment(ExperimentConfig.load(write_toy_experiment(base, tiny_bert)), out)
    return out


def test_report_files_hold_the_tables_plots_and_statistics(finished_experiment):
    html, md = build_report(finished_experiment, semantic=False)
    page, summary = html.read_text(), md.read_text()
    assert page.count("data:image/png;base64,") >= 2 and "<img" in page and 'src="plots/' not in page
    assert "Friedman chi-square" in page and "synthetic-&gt;real:toy" in page
    assert "| meld | utterance | real | weighted_f1 | 3 |" in summary and "## Friedman test" in summary
    assert (finished_experiment / "plots" / "cd_diagram.png").is_file() and "plots/cd_diagram.png" in summary
    assert (finished_experiment / "friedman.json").is_file() and (finished_experiment / "quality.json").is_file()
    for name in ("labels_meld.png", "cd_diagram.png"):
        data = (finished_experiment / "plots" / name).read_bytes()
        assert base64.b64encode(data).decode() in page


def test_quality_is_cached_by_the_datasets_content(tiny_bert, tmp_path, monkeypatch):
    from emosynth.report.build import quality

    config = ExperimentConfig.load(write_toy_experiment(tmp_path, tiny_bert))
    monkeypatch.chdir(tmp_path)  # the datasets lie in the working directory: named relative to it
    first = quality(config, tmp_path, semantic=False)
    saved = json.loads((tmp_path / "quality.json").read_text())
    assert saved["reports"]["meld"][0]["source"] == "synthetic.jsonl"
    saved["reports"]["meld"][0]["marker"] = "from the cache"
    (tmp_path / "quality.json").write_text(json.dumps(saved))
    os.utime(tmp_path / "synthetic.jsonl")  # touched (a fresh checkout), same content: the cache holds
    assert quality(config, tmp_path, semantic=False)["meld"][0]["marker"] == "from the cache"
    with open(tmp_path / "synthetic.jsonl") as fh:
        one = fh.readline()
    (tmp_path / "synthetic.jsonl").write_text(one)  # other content: inspected again
    again = quality(config, tmp_path, semantic=False)
    assert "marker" not in again["meld"][0] and again["meld"][0]["size"] != first["meld"][0]["size"]


def test_a_directory_without_an_experiment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not an experiment directory"):
        build_report(tmp_path)


def test_the_html_report_renders_in_headless_chromium(finished_experiment, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "emosynth", "report", str(finished_experiment), "--no-semantic"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    driver = chrome()
    try:
        driver.get((finished_experiment / "report.html").as_uri())
        assert driver.find_element("id", "title").text == "emosynth report: toy"
        assert len(driver.find_elements("css selector", "table.f1 tbody tr")) == 3
        assert len(driver.find_elements("css selector", ".dataset-card")) == 1
        images = driver.find_elements("css selector", "img.plot")
        assert len(images) >= 2
        for img in images:  # every embedded plot decoded and laid out
            assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 100
        assert "Friedman chi-square" in driver.find_element("id", "friedman").find_element("xpath", "..").text
        shot = tmp_path / "report.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        driver.quit()


def test_a_filtered_copy_gets_a_card_that_names_its_source_and_the_filter(tmp_path):
    from emosynth.report.build import dataset_card

    (tmp_path / "x.jsonl").write_text("")
    (tmp_path / "kept.jsonl").write_text("")
    applied = {"dialogues_in": 9, "dialogues_out": 4, "turns_relabelled": 0, "level": "dialogue", "by": ["classifier"]}
    (tmp_path / "kept.filter.json").write_text(json.dumps(applied | {"source": str(tmp_path / "x.jsonl")}))
    card = dataset_card("meld/x-filtered", str(tmp_path / "kept.jsonl"))
    assert card["filtered_from"]["source"] == "x.jsonl" and card["filtered_from"]["dialogues_out"] == 4
    assert dataset_card("meld/x", str(tmp_path / "x.jsonl"))["filtered_from"] is None
