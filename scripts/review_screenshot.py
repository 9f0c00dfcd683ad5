"""The README's picture of the review page: serves a copy of a committed sample, answers its first turns with the
keyboard in headless Chromium (the labels typed are the assigned ones shifted on odd turns) and saves the page
just after an answer. Usage: python scripts/review_screenshot.py [DATA.jsonl] [-o docs/review.png]"""

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from emosynth.review.items import load_queue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", nargs="?", default="data/samples/meld_natural.jsonl")
    parser.add_argument("-o", "--out", default="docs/review.png")
    parser.add_argument("--answers", type=int, default=3, help="turns answered before the picture")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / Path(args.data).name
        shutil.copy(args.data, data)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        command = [sys.executable, "-m", "emosynth", "review", str(data), "--port", str(port), "--annotator", "ana"]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1100,820"):
            options.add_argument(arg)
        driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
        try:
            time.sleep(3)
            driver.get(f"http://127.0.0.1:{port}/")
            wait = WebDriverWait(driver, 20)
            queue = load_queue(data)
            labels = list(queue.taxonomy.labels)
            body = driver.find_element(By.TAG_NAME, "body")
            for k, item in enumerate(queue.items[: args.answers]):
                wait.until(lambda d, item=item: d.find_element(By.ID, "text").text == item.text)
                index = labels.index(item.assigned[0]) + (k % 2)
                body.send_keys(str(index % len(labels)), Keys.ENTER)
                wait.until(lambda d: d.find_element(By.ID, "reveal").text.startswith("Assigned"))
                if k + 1 < args.answers:
                    body.send_keys(Keys.ENTER)
            driver.save_screenshot(args.out)
        finally:
            driver.quit()
            server.terminate()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
