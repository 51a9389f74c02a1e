"""AdamW: Adam with decoupled weight decay."""

from __future__ import annotations

from tensorcore.optimizers.adam import Adam


class AdamW(Adam):
    """Adam plus decoupled weight decay: before each step ``var -= var * weight_decay * lr``."""

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 name: str = "adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a non-negative float. "
                             "Received: weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, name=name, weight_decay=weight_decay, **kwargs)
