"""Model: the base of every trainable model, itself a Layer (so models nest).

Three ways to make one, as in Keras:

- functional: ``tc.models.Model(inputs, outputs)`` on tensors from ``tc.Input(shape)``;
- ``Sequential([...])``;
- subclassing: set layers as attributes in ``__init__`` and write ``call``::

      class MLP(tc.models.Model):
          def __init__(self, units=32, **kwargs):
              super().__init__(**kwargs)
              self.units = units
              self.hidden = tc.layers.Dense(units, activation="relu")
              self.out = tc.layers.Dense(10, activation="softmax")

          def call(self, x, training=False):
              return self.out(self.hidden(x))

          def get_config(self):                     # only needed for model.save
              return {**super().get_config(), "units": self.units}

  Register it with ``@tc.saving.register_serializable(package="my_app")`` to save and
  load the whole model; ``save_weights`` works without that.

A model used as a layer contributes its weights to the outer model; ``model.trainable =
False`` freezes all of them (they move to ``non_trainable_weights``).
"""

from __future__ import annotations

import inspect
import os

import numpy as np

import tensorcore as tc
from tensorcore.layers.base import Layer, unique_name
from tensorcore.models.training import Trainer


class Model(Trainer, Layer):
    """Base class of models (see the module docstring)."""

    config_builds = False  # True when from_config(get_config()) gives a built model

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from tensorcore.models.functional import Functional
            return object.__new__(Functional)
        return object.__new__(cls)

    def __init__(self, *args, name: str | None = None, trainable: bool = True, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments "
                            f"{list(args) + sorted(kwargs)}; a functional model takes "
                            "Model(inputs, outputs)")
        Trainer.__init__(self)
        Layer.__init__(self, name=name if name is not None else
                       unique_name(_snake(type(self).__name__)), trainable=trainable)
        self.build_input_shape = None

    def __setattr__(self, key, value):
        # Track sub-layers (and lists of them) assigned in __init__, in order.
        if not key.startswith("_"):
            found = [value] if isinstance(value, Layer) else \
                [v for v in value if isinstance(v, Layer)] if isinstance(value, (list, tuple)) \
                else []
            if found:
                tracked = self.__dict__.setdefault("_tracked_layers", [])
                for layer in found:
                    if layer is not self and all(layer is not t for t in tracked):
                        tracked.append(layer)
        object.__setattr__(self, key, value)

    # ------------------------------------------------------------------ structure
    @property
    def layers(self) -> list[Layer]:
        """The sub-layers, in the order they were assigned."""
        return list(self.__dict__.get("_tracked_layers", []))

    def get_layer(self, name: str) -> Layer:
        """The sub-layer called `name`."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"{self.name}: no layer named {name!r}; layers are "
                         f"{[layer.name for layer in self.layers]}")

    # ------------------------------------------------------------------ weights
    def _own_and_sublayers(self):
        return [self] + self.layers

    @property
    def weights(self) -> list[tc.Tensor]:
        """Every weight: the model's own, then each sub-layer's (each once)."""
        return _unique_tensors(list(self._weight_tensors)
                               + [w for layer in self.layers for w in layer.weights])

    @property
    def trainable_weights(self) -> list[tc.Tensor]:
        """Weights the optimizer updates (none when the model is frozen)."""
        if not self.trainable:
            return []
        own = [w for w, t in zip(self._weight_tensors, self._weight_trainable) if t]
        return _unique_tensors(own + [w for layer in self.layers
                                      for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self) -> list[tc.Tensor]:
        """Weights the optimizer leaves alone."""
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def weight_names(self) -> list[str]:
        """"layer/weight" names of self.weights."""
        names = {}
        own = dict(zip((id(w) for w in self._weight_tensors), self._weight_names))
        for w_id, n in own.items():
            names[w_id] = f"{self.name}/{n}"
        for layer in self.layers:
            for w, n in zip(layer.weights, layer.weight_names):
                names.setdefault(id(w), n)
        return [names[id(w)] for w in self.weights]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights as NumPy arrays (order of self.weights)."""
        return [w.numpy().copy() for w in self.weights]

    def set_weights(self, weights: list) -> None:
        """Overwrite all weights (same order and shapes as get_weights)."""
        current = self.weights
        expected = [tuple(w.shape) for w in current]
        received = [tuple(np.shape(w)) for w in weights]
        if expected != received:
            raise ValueError(f"{self.name}: set_weights expected arrays of shapes {expected}. "
                             f"Received: shapes {received}")
        for target, value in zip(current, weights):
            array = value.numpy() if isinstance(value, tc.Tensor) else np.asarray(value)
            target.assign(tc.as_tensor(array, tc.float32))

    def count_params(self) -> int:
        """Total number of scalars in all weights."""
        return sum(int(w.size) for w in self.weights)

    # ------------------------------------------------------------------ calling
    def __call__(self, inputs, training: bool = False):
        """Run the model on tensors/arrays (or record it in a functional graph)."""
        from tensorcore.layers.base import is_symbolic

        if is_symbolic(inputs):
            from tensorcore.models.functional import symbolic_call
            return symbolic_call(self, inputs)
        inputs = _to_tensors(inputs)
        if not self.built:
            first = inputs if isinstance(inputs, tc.Tensor) else None
            if first is not None:
                self.build_input_shape = (None,) + tuple(first.shape[1:])
        if self._call_takes_training():
            outputs = self.call(inputs, training=training)
        else:
            outputs = self.call(inputs)
        self.built = True
        return outputs

    def _call_takes_training(self) -> bool:
        cached = self.__dict__.get("_takes_training")
        if cached is None:
            parameters = inspect.signature(self.call).parameters
            cached = "training" in parameters or any(
                p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
            object.__setattr__(self, "_takes_training", cached)
        return cached

    def call(self, inputs, training: bool = False):
        """The model's computation; subclasses override this."""
        raise NotImplementedError(f"{type(self).__name__} must define call(self, inputs, "
                                  "training=False)")

    def build(self, input_shape) -> None:
        """Create the weights by running the model once on zeros of this shape."""
        shape = tuple(input_shape)
        if len(shape) < 2 or any(d is None for d in shape[1:]):
            raise ValueError(f"{self.name}: build expects a shape with a batch axis and known "
                             f"sizes, e.g. (None, 784). Received: input_shape={input_shape!r}")
        with tc.no_grad():
            self(np.zeros((1,) + shape[1:], np.float32))
        self.build_input_shape = (None,) + shape[1:]

    def compute_output_shape(self, input_shape) -> tuple:
        """Output shape, found by running the model on one sample of zeros."""
        with tc.no_grad():
            out = self(np.zeros((1,) + tuple(input_shape)[1:], np.float32))
        return (None,) + tuple(out.shape[1:])

    # ------------------------------------------------------------------ config / files
    def get_config(self) -> dict:
        """Constructor arguments (extend this in subclasses for model.save)."""
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config: dict):
        """cls(**config)."""
        return cls(**config)

    def summary(self, print_fn=print) -> None:
        """Print a table of layers, output shapes and parameter counts."""
        from tensorcore.models.summary import format_summary

        print_fn(format_summary(self))

    def save(self, filepath: str | os.PathLike) -> None:
        """Save architecture, weights, compile settings and optimizer state (no pickle).

        In distributed training only rank 0 writes; the call does nothing on other ranks.
        """
        from tensorcore import saving

        if not self._writes_files():
            return
        saving.save_model(self, filepath)

    def save_weights(self, filepath: str | os.PathLike) -> None:
        """Save only the weights (rank 0 only in distributed training)."""
        from tensorcore import saving

        if not self._writes_files():
            return
        saving.save_weights(self, filepath)

    def load_weights(self, filepath: str | os.PathLike) -> None:
        """Load weights saved by save_weights() or save()."""
        from tensorcore import saving

        saving.load_weights(self, filepath)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


def _snake(class_name: str) -> str:
    from tensorcore.layers.base import _snake_case

    return _snake_case(class_name)


def _to_tensors(inputs):
    """Arrays -> float32 tensors, through lists and dicts."""
    from tensorcore.layers.base import to_tensor

    if isinstance(inputs, dict):
        return {k: _to_tensors(v) for k, v in inputs.items()}
    if isinstance(inputs, (list, tuple)) and inputs and \
            isinstance(inputs[0], (tc.Tensor, np.ndarray, list, tuple, dict)) and \
            not isinstance(inputs[0], (int, float)) and \
            any(isinstance(v, (tc.Tensor, np.ndarray, dict)) for v in inputs):
        return [_to_tensors(v) for v in inputs]
    return to_tensor(inputs)


def _unique_tensors(tensors: list[tc.Tensor]) -> list[tc.Tensor]:
    """Tensors in order, each once (a shared layer's weights appear once)."""
    seen, out = set(), []
    for tensor in tensors:
        if id(tensor) not in seen:
            seen.add(id(tensor))
            out.append(tensor)
    return out
