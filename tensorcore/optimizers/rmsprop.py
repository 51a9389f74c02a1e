"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import tensorcore as tc
from tensorcore.optimizers.base import Optimizer, _check_positive, fused_update


class RMSprop(Optimizer):
    """RMSprop with Keras 3's update.

    ``v = rho*v + (1-rho)*g**2``; ``step = lr*g / sqrt(v + epsilon)`` (centered:
    ``a = rho*a + (1-rho)*g`` and ``sqrt(v - a**2 + epsilon)``); with momentum
    ``m = momentum*m + step; var -= m``, else ``var -= step``.
    """

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, name: str = "rmsprop",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = _check_positive("RMSprop", "rho", rho, allow_zero=True)
        if self.rho >= 1:
            raise ValueError(f"RMSprop: rho must be in [0, 1). Received: rho={rho!r}")
        self.momentum = _check_positive("RMSprop", "momentum", momentum, allow_zero=True)
        self.epsilon = _check_positive("RMSprop", "epsilon", epsilon, allow_zero=True)
        self.centered = bool(centered)
        names = ["velocity"]
        if self.momentum > 0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        self.state_names = tuple(names)

    def update_step(self, gradient: tc.Tensor, variable: tc.Tensor,
                    learning_rate: float) -> None:
        """One RMSprop step for one variable."""
        state = self.state_for(variable)
        velocity = state["velocity"]
        momentum, average = state.get("momentum"), state.get("average_gradient")
        kernel = fused_update("rmsprop_update", variable, gradient, velocity, momentum,
                              average)
        if kernel is not None:
            kernel(variable.data, gradient.data, velocity.data,
                   None if momentum is None else momentum.data,
                   None if average is None else average.data,
                   learning_rate, self.rho, self.momentum, self.epsilon)
            return
        velocity.assign(velocity * self.rho + tc.square(gradient) * (1.0 - self.rho))
        if self.centered:
            average = state["average_gradient"]
            average.assign(average * self.rho + gradient * (1.0 - self.rho))
            denominator = velocity - tc.square(average) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = gradient * learning_rate / tc.sqrt(denominator)
        if self.momentum > 0:
            momentum = state["momentum"]
            momentum.assign(momentum * self.momentum + increment)
            variable.assign_sub(momentum)
        else:
            variable.assign_sub(increment)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
