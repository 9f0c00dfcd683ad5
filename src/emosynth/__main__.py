from emosynth.cli import app

app()
