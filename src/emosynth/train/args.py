"""The one training configuration: used by ``emosynth train``, the experiment grid and its stale-cell check."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# The settings that change what a run learns; two runs that agree on these (and on data, model, seed) are the
# same run. Threads, progress bars and the evaluation batch size change only how fast it goes.
RESULT_FIELDS = (
    "epochs",
    "pretrain_epochs",
    "learning_rate",
    "batch_size",
    "weight_decay",
    "warmup_ratio",
    "class_weights",
    "threshold",
    "init_bias",
    "tune_thresholds",
    "soft_targets",
)


class TrainingArguments(BaseModel):
    """How a classifier is trained (setfit/transformers style); validated, with exact errors on bad values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: int = Field(2, ge=1)
    pretrain_epochs: int = Field(1, ge=1, description="epochs on synthetic data before the real ones")
    learning_rate: float = Field(5e-5, gt=0)
    batch_size: int = Field(32, ge=1)
    eval_batch_size: int = Field(64, ge=1)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, le=1)
    class_weights: bool = False
    seed: int = 0
    threads: int | None = Field(None, ge=1)
    threshold: float = Field(0.5, gt=0, lt=1, description="multi-label: a label is predicted from this sigmoid")
    tune_thresholds: bool = Field(
        True, description="multi-label: each label's threshold is the one with the best F1 on dev (else threshold)"
    )
    soft_targets: bool = Field(
        True, description="multi-label: examples with rater scores train on them (BCE on soft targets)"
    )
    init_bias: bool = Field(True, description="multi-label: output biases start at the labels' log-odds")
    progress: bool = False

    def identity(self) -> dict[str, Any]:
        """The settings that decide the result (``RESULT_FIELDS``): what a finished run is compared by."""
        return self.model_dump(include=set(RESULT_FIELDS))

    @classmethod
    def recorded(cls, config: dict[str, Any]) -> TrainingArguments:
        """The arguments a finished run recorded in its ``results.json`` ``config``.

        Runs before one configuration existed kept ``pretrain_epochs`` beside ``training``, not inside it.
        """
        training = dict(config.get("training") or {})
        if "pretrain_epochs" in config:
            training.setdefault("pretrain_epochs", config["pretrain_epochs"])
        return cls.model_validate(training)
