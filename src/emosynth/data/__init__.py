"""Readers of benchmark formats and writers of records (JSONL, Parquet, HF datasets, benchmark layouts)."""
