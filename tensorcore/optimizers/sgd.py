"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

import tensorcore as tc
from tensorcore.optimizers.base import Optimizer, _check_positive, fused_update


class SGD(Optimizer):
    """Gradient descent, optionally with momentum.

    Without momentum ``var -= lr*g``; with it ``m = momentum*m - lr*g; var += m``.
    With ``nesterov=True`` the variable moves by ``momentum*m - lr*g`` after m is updated.
    """

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, name: str = "SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        momentum = _check_positive("SGD", "momentum", momentum, allow_zero=True)
        if momentum > 1:
            raise ValueError(f"SGD: momentum must be in [0, 1]. Received: momentum={momentum}")
        self.momentum = momentum
        self.nesterov = bool(nesterov)
        self.state_names = ("momentum",) if momentum > 0 else ()

    def update_step(self, gradient: tc.Tensor, variable: tc.Tensor,
                    learning_rate: float) -> None:
        """One SGD step for one variable."""
        velocity = self.state_for(variable)["momentum"] if self.momentum > 0 else None
        kernel = fused_update("sgd_update", variable, gradient, velocity)
        if kernel is not None:
            kernel(variable.data, gradient.data, None if velocity is None else velocity.data,
                   learning_rate, self.momentum, self.nesterov)
            return
        if self.momentum == 0:
            variable.assign_sub(gradient * learning_rate)
            return
        velocity = self.state_for(variable)["momentum"]
        velocity.assign(velocity * self.momentum - gradient * learning_rate)
        if self.nesterov:
            variable.assign_add(velocity * self.momentum - gradient * learning_rate)
        else:
            variable.assign_add(velocity)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
