"""The review page in headless Chromium, served by the real `emosynth review` command: keyboard labelling, answers
kept across a reload, separate annotators, untrusted text shown as text, and the summary of what was typed."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emosynth.review.items import load_queue

from ..conftest import chrome, free_port, wait_for_port

FIXTURES = Path(__file__).parents[1] / "fixtures" / "review"


@pytest.fixture
def served(tmp_path):
    data = tmp_path / "dialogues.jsonl"
    shutil.copy(FIXTURES / "dialogues.jsonl", data)
    port = free_port()
    command = [sys.executable, "-m", "emosynth", "review", str(data), "--port", str(port), "--sample", "0"]
    proc = subprocess.Popen(
        [*command, "--annotator", "alice"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_port(port, proc, timeout=60)
        yield data, f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_person_labels_turns_with_the_keyboard_and_the_answers_survive_a_reload(served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    data, url = served
    queue = load_queue(data, sample=None)
    labels = list(queue.taxonomy.labels)
    # agree on even positions, name another label on odd ones; mark the second item incoherent
    typed = [
        item.assigned[0] if k % 2 == 0 else labels[(labels.index(item.assigned[0]) + 1) % len(labels)]
        for k, item in enumerate(queue.items)
    ]
    driver = chrome()
    wait = WebDriverWait(driver, 20)
    seen_script = False

    def progress() -> str:
        return driver.find_element(By.ID, "progress").text

    def label(k: int) -> None:
        nonlocal seen_script
        item = queue.items[k]
        wait.until(lambda d: d.find_element(By.ID, "text").text == item.text)
        seen_script |= (
            "<script>document.title='owned'</script><b>not bold</b>" in driver.find_element(By.ID, "work").text
        )
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys(str(labels.index(typed[k])))
        if k == 1:
            body.send_keys("i")
        body.send_keys(Keys.ENTER)
        wait.until(lambda d: d.find_element(By.ID, "reveal").text.startswith("Assigned: "))
        assert driver.find_element(By.ID, "reveal").text.startswith(f"Assigned: {item.assigned[0]}")
        assert progress() == f"{k + 1} / 7 done"
        body.send_keys(Keys.ENTER)

    try:
        driver.get(url)
        wait.until(lambda d: progress() == "0 / 7 done")
        assert driver.find_element(By.ID, "annotator").text == "alice"
        assert len(driver.find_elements(By.CSS_SELECTOR, "#labels button")) == 7
        for k in range(5):
            label(k)
        driver.refresh()
        wait.until(lambda d: progress() == "5 / 7 done")
        driver.get(url + "?annotator=bob")  # another person starts from the beginning
        wait.until(lambda d: progress() == "0 / 7 done")
        driver.get(url)
        for k in (5, 6):
            label(k)
        wait.until(lambda d: "named the assigned label in 57 % of 7 items" in d.find_element(By.ID, "done").text)
        assert seen_script and driver.title == "emosynth review: dialogues.jsonl"
        assert driver.find_elements(By.CSS_SELECTOR, "#work b, #work script") == []
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        driver.quit()

    run = subprocess.run(
        [sys.executable, "-m", "emosynth", "review", str(data), "--sample", "0", "--summary"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "7 answers on 7 items (meld): agreement with the assigned labels 0.571" in run.stdout
    summary = json.loads(data.with_name("dialogues.review.json").read_text())
    assert summary["annotators"]["alice"]["n"] == 7 and summary["pooled"]["incoherent"] == round(1 / 7, 4)
    assert summary["between_annotators"] is None
