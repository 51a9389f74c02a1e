"""Layers that merge several inputs: Concatenate and Add (for functional models)."""

from __future__ import annotations

import tensorcore as tc
from tensorcore.layers.base import Layer


class _Merge(Layer):
    """Base of layers called on a list of tensors."""

    _multi_input = True

    def _check_shapes(self, shapes) -> list[tuple]:
        if not isinstance(shapes, (list, tuple)) or len(shapes) < 2 \
                or not isinstance(shapes[0], (list, tuple)):
            raise ValueError(f"{self.name}: {type(self).__name__} must be called on a list of "
                             f"at least 2 inputs. Received: input shapes {shapes!r}")
        return [tuple(s) for s in shapes]


class Concatenate(_Merge):
    """Joins its inputs along `axis` (the feature axis by default)."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape) -> tuple:
        """Shapes agree except along axis, where they add up."""
        shapes = self._check_shapes(input_shape)
        rank = len(shapes[0])
        axis = self.axis % rank
        if axis == 0 or any(len(s) != rank or s[1:axis] + s[axis + 1:]
                            != shapes[0][1:axis] + shapes[0][axis + 1:] for s in shapes[1:]):
            raise ValueError(f"{self.name}: Concatenate(axis={self.axis}) needs inputs whose "
                             f"shapes agree off that axis. Received: {shapes}")
        total = None if any(s[axis] is None for s in shapes) else sum(s[axis] for s in shapes)
        return shapes[0][:axis] + (total,) + shapes[0][axis + 1:]

    def build(self, input_shape) -> None:
        """Only checks the shapes."""
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs, training: bool = False) -> tc.Tensor:
        """tc.concatenate(inputs, axis)."""
        return tc.concatenate(list(inputs), axis=self.axis)

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {**super().get_config(), "axis": self.axis}


class Add(_Merge):
    """Element-wise sum of its inputs (all of one shape)."""

    def compute_output_shape(self, input_shape) -> tuple:
        """The common shape."""
        shapes = self._check_shapes(input_shape)
        if any(s[1:] != shapes[0][1:] for s in shapes):
            raise ValueError(f"{self.name}: Add needs inputs of one shape. Received: {shapes}")
        return shapes[0]

    def build(self, input_shape) -> None:
        """Only checks the shapes."""
        self.compute_output_shape(input_shape)
        self.built = True

    def call(self, inputs, training: bool = False) -> tc.Tensor:
        """The sum of the inputs."""
        total = inputs[0]
        for item in inputs[1:]:
            total = total + item
        return total
