"""``emosynth review``: people label synthetic turns blind on a local page; their answers join the fidelity figures.

``items`` turns a dataset into the review queue, ``store`` keeps the answers (SQLite beside the data), ``summary``
measures them (agreement with the assigned labels, between annotators), ``interchange`` moves them to and from
Label Studio and Argilla, ``server`` is the page. Floor: beside ``experiment`` (reads data, taxonomy, quality's
agreement; ``report`` reads its summary).
"""
