"""Sequential: a linear stack of layers, usable as a layer-like callable and trainable."""

from __future__ import annotations

import numpy as np

import tensorcore as tc
from tensorcore.layers.base import Layer, is_symbolic, to_tensor, unique_name
from tensorcore.models.model import Model


class Sequential(Model):
    """A model whose layers run one after another: ``Sequential([Dense(512), Dense(10)])``."""

    _checks_shapes = True  # fit/evaluate check x and y against the built shapes
    config_builds = True   # get_config() records build_input_shape

    def __init__(self, layers: list[Layer] | None = None, name: str | None = None,
                 trainable: bool = True):
        super().__init__(name=name if name is not None else unique_name("sequential"),
                         trainable=trainable)
        self._layers: list[Layer] = []
        self.built = False
        self.build_input_shape: tuple | None = None
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ structure
    @property
    def layers(self) -> list[Layer]:
        """The layers, in order."""
        return list(self._layers)

    def add(self, layer: Layer) -> None:
        """Append a layer (builds it right away when the input shape is known)."""
        if not isinstance(layer, Layer):
            raise TypeError("Sequential.add: expected a Layer instance. "
                            f"Received: {layer!r} of type {type(layer).__name__}")
        if any(existing is layer for existing in self._layers):
            raise ValueError(f"Sequential.add: layer '{layer.name}' is already in the model")
        names = {existing.name for existing in self._layers}
        if layer.name in names:
            raise ValueError(f"Sequential.add: a layer named '{layer.name}' is already in the "
                             "model; layer names must be unique")
        self._layers.append(layer)
        if self.built:
            shape = self.build_input_shape
            for previous in self._layers[:-1]:
                shape = previous.compute_output_shape(shape)
            if not layer.built:
                layer.build(shape)
                layer.built = True
        elif len(self._layers) == 1 and layer.input_shape_arg is not None:
            self.build((None,) + layer.input_shape_arg)

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise IndexError("Sequential.pop: the model has no layers")
        return self._layers.pop()

    def build(self, input_shape: tuple) -> None:
        """Create every layer's weights for inputs of this shape (batch axis included)."""
        shape = tuple(input_shape)
        if len(shape) < 2:
            raise ValueError(f"{self.name}: build expects a shape with a batch axis, e.g. "
                             f"(None, 784). Received: input_shape={input_shape!r}")
        if self.built:
            built = tuple(self.build_input_shape[1:])
            new = tuple(shape[1:])
            if len(new) != len(built) or any(
                    a is not None and b is not None and a != b for a, b in zip(new, built)):
                raise ValueError(f"{self.name}: build: the model is already built for inputs "
                                 f"of shape {(None,) + built}, received input_shape="
                                 f"{input_shape!r}; its weights cannot change shape (make a "
                                 "new model for other inputs)")
            return
        self.build_input_shape = (None,) + tuple(shape[1:])
        current = self.build_input_shape
        for layer in self._layers:
            if not layer.built:
                layer.build(current)
                layer.built = True
            current = layer.compute_output_shape(current)
        self.built = True

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Output shape for an input shape (batch axis included)."""
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    # ------------------------------------------------------------------ calling
    def __call__(self, inputs, training: bool = False) -> tc.Tensor:
        """Run the layers on inputs; the result is differentiable w.r.t. the weights."""
        if is_symbolic(inputs):
            from tensorcore.models.functional import symbolic_call
            return symbolic_call(self, inputs)
        inputs = to_tensor(inputs)
        if not self.built:
            self.build((None,) + tuple(inputs.shape[1:]))
        return self.call(inputs, training=training)

    def call(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """Apply each layer in turn."""
        outputs = inputs
        for layer in self._layers:
            outputs = layer(outputs, training=training)
        return outputs

    def call_logits(self, inputs: tc.Tensor, training: bool = False) -> tc.Tensor:
        """Like call(), but the last layer stops before its final activation."""
        outputs = inputs
        for layer in self._layers[:-1]:
            outputs = layer(outputs, training=training)
        return self._layers[-1].call_logits(to_tensor(outputs), training=training)

    @property
    def output_names(self) -> list[str] | None:
        """Name of the single output (the last layer's), as Keras names it."""
        return [self._layers[-1].name] if self._layers else None

    def _forward_for_loss(self, x, training: bool, fuse: list[bool]) -> list[tuple]:
        """Logits of the last layer when the loss absorbs its final activation."""
        if fuse[0]:
            return [(self.call_logits(to_tensor(x), training=training), True)]
        return [(self(x, training=training), False)]

    @property
    def output_activation(self) -> str | None:
        """Name of the activation the last layer applies last, if any."""
        return self._layers[-1].output_activation if self._layers else None

    # ------------------------------------------------------------------ weights
    @property
    def weights(self) -> list[tc.Tensor]:
        """All weights, layer by layer."""
        return [w for layer in self._layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list[tc.Tensor]:
        """Weights the optimizer updates, layer by layer (none when frozen)."""
        if not self.trainable:
            return []
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[tc.Tensor]:
        """Weights the optimizer leaves alone (all of them when frozen)."""
        if not self.trainable:
            return self.weights
        return [w for layer in self._layers for w in layer.non_trainable_weights]

    @property
    def weight_names(self) -> list[str]:
        """"layer/weight" names of self.weights, in order."""
        return [n for layer in self._layers for n in layer.weight_names]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all weights as NumPy arrays."""
        return [w for layer in self._layers for w in layer.get_weights()]

    def set_weights(self, weights: list) -> None:
        """Overwrite all weights (same order and shapes as get_weights)."""
        expected = [tuple(w.shape) for w in self.weights]
        received = [tuple(np.shape(w)) for w in weights]
        if expected != received:
            raise ValueError(f"{self.name}: set_weights expected arrays of shapes {expected}. "
                             f"Received: shapes {received}")
        position = 0
        for layer in self._layers:
            count = len(layer.weights)
            layer.set_weights(list(weights[position:position + count]))
            position += count

    def count_params(self) -> int:
        """Total number of scalars in all weights."""
        return sum(layer.count_params() for layer in self._layers)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """Architecture as a JSON-ready dict."""
        from tensorcore import layers

        config = {"name": self.name, "trainable": self.trainable,
                  "layers": [layers.serialize(layer) for layer in self._layers]}
        if self.build_input_shape is not None:
            config["build_input_shape"] = list(self.build_input_shape[1:])
        return config

    @classmethod
    def from_config(cls, config: dict) -> Sequential:
        """Rebuild from get_config()'s output (fresh weights)."""
        from tensorcore import layers

        model = cls([layers.deserialize(c) for c in config["layers"]], name=config.get("name"),
                    trainable=config.get("trainable", True))
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model.build((None,) + tuple(int(d) for d in shape))
        return model

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r} layers={len(self._layers)} built={self.built}>"
