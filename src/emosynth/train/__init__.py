"""Classifiers trained on synthetic and real data: utterance, one-sequence context, CoMPM."""
