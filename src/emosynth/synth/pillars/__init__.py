"""Emo Pillars (Shvets, Findings of ACL 2025): story-grounded utterances with contexts and soft multi-labels."""
