"""Adam: adaptive moment estimation with a bias-corrected step size."""

from __future__ import annotations

import math

import tensorcore as tc
from tensorcore.optimizers.base import Optimizer, _check_positive, fused_update


class Adam(Optimizer):
    """Adam with Keras 3's update.

    With t = iterations + 1: ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``;
    ``m += (g - m)*(1 - beta_1)``; ``v += (g**2 - v)*(1 - beta_2)``;
    ``var -= m*alpha / (sqrt(v) + epsilon)``.
    """

    state_names = ("momentum", "velocity")

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, name: str = "adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        owner = type(self).__name__
        for label, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            if _check_positive(owner, label, value, allow_zero=True) >= 1:
                raise ValueError(f"{owner}: {label} must be in [0, 1). Received: "
                                 f"{label}={value!r}")
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = _check_positive(owner, "epsilon", epsilon, allow_zero=True)

    def update_step(self, gradient: tc.Tensor, variable: tc.Tensor,
                    learning_rate: float) -> None:
        """One Adam step for one variable."""
        state = self.state_for(variable)
        step = self.iterations + 1
        alpha = (learning_rate * math.sqrt(1.0 - self.beta_2 ** step)
                 / (1.0 - self.beta_1 ** step))
        momentum, velocity = state["momentum"], state["velocity"]
        kernel = fused_update("adam_update", variable, gradient, momentum, velocity)
        if kernel is not None:
            kernel(variable.data, gradient.data, momentum.data, velocity.data, alpha,
                   self.beta_1, self.beta_2, self.epsilon)
            return
        momentum.assign_add((gradient - momentum) * (1.0 - self.beta_1))
        velocity.assign_add((tc.square(gradient) - velocity) * (1.0 - self.beta_2))
        variable.assign_sub(momentum * alpha / (tc.sqrt(velocity) + self.epsilon))

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
