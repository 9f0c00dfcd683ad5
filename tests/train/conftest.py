import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    ":",
    "anna",
    "ben",
    "i",
    "am",
    "so",
    "happy",
    "angry",
    "today",
    "great",
    "awful",
    "the",
    "weather",
    "is",
    "okay",
    "you",
    "what",
    "hello",
]


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    """A 2-layer, 32-wide BERT and a WordPiece tokenizer, built here from config (nothing downloaded)."""
    path = tmp_path_factory.mktemp("tiny-bert")
    (path / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    tok = transformers.BertTokenizerFast(vocab=str(path / "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(path)
    config = transformers.BertConfig(
        vocab_size=len(WORDS),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(path)
    return path
