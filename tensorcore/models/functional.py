"""The functional API: tc.Input, layers called on symbolic tensors, Model(inputs, outputs).

Calling a layer on a ``SymbolicTensor`` builds the layer for that shape and records a
``Node`` (layer, input tensors); ``Model(inputs, outputs)`` walks the nodes back from the
outputs and runs them in that order on real data. A layer called twice is shared: both calls
use its one set of weights.
"""

from __future__ import annotations

import numpy as np

import tensorcore as tc
from tensorcore.layers.base import Layer, unique_name
from tensorcore.models.model import Model


class SymbolicTensor:
    """Placeholder for a tensor in a functional graph: a shape (batch axis None) and the node
    that produces it."""

    _is_symbolic_tensor = True

    def __init__(self, shape: tuple, node: Node):
        self.shape = tuple(shape)
        self.node = node

    @property
    def ndim(self) -> int:
        """Number of axes, batch axis included."""
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<SymbolicTensor shape={self.shape} from {self.node.layer.name!r}>"


class Node:
    """One call of a layer in a graph: its input tensors and its output tensor."""

    def __init__(self, layer: Layer, inputs: list[SymbolicTensor], multi: bool,
                 output_shape: tuple):
        self.layer = layer
        self.inputs = inputs
        self.multi = multi
        self.output = SymbolicTensor(output_shape, self)


class InputLayer(Layer):
    """The layer behind tc.Input: passes its input through."""

    def __init__(self, shape=None, name: str | None = None, **kwargs):
        kwargs.pop("input_shape", None)
        super().__init__(name=name if name is not None else unique_name("input_layer"),
                         **kwargs)
        self.shape = tuple(int(d) for d in shape)
        self.built = True

    def get_config(self) -> dict:
        """Constructor arguments as a JSON-ready dict."""
        return {"name": self.name, "shape": list(self.shape)}


def Input(shape, name: str | None = None) -> SymbolicTensor:
    """A symbolic input of per-sample `shape` (no batch axis): ``tc.Input((784,))``."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"Input: shape must be a tuple of positive ints. Received: "
                        f"shape={shape!r}") from None
    if not dims or any(d <= 0 for d in dims):
        raise ValueError(f"Input: shape must be a tuple of positive ints. Received: "
                         f"shape={shape!r}")
    layer = InputLayer(dims, name=name)
    node = Node(layer, [], False, (None,) + dims)
    layer._nodes = [node]
    return node.output


def _output_shape(layer: Layer, shapes):
    """Output shape of `layer` for input shape(s), from compute_output_shape or a dry run."""
    if isinstance(layer, Model) and not hasattr(layer, "_graph_nodes") \
            and type(layer).__name__ != "Sequential":
        with tc.no_grad():
            out = layer(np.zeros((1,) + tuple(shapes[1:]), np.float32))
        return (None,) + tuple(out.shape[1:])
    return tuple(layer.compute_output_shape(shapes))


def symbolic_call(layer: Layer, inputs):
    """Record `layer(inputs)` for symbolic inputs and return the symbolic output."""
    multi = isinstance(inputs, (list, tuple))
    tensors = list(inputs) if multi else [inputs]
    for tensor in tensors:
        if not getattr(tensor, "_is_symbolic_tensor", False):
            raise TypeError(f"{layer.name}: cannot mix symbolic tensors (from tc.Input) with "
                            f"real data in one call. Received: {type(tensor).__name__}")
    shapes = [t.shape for t in tensors] if multi else tensors[0].shape
    if not layer.built:
        if isinstance(layer, Model) and not hasattr(layer, "_graph_nodes") and \
                type(layer).__name__ != "Sequential":
            layer.build(shapes)
        else:
            layer.build(shapes)
            layer.built = True
    node = Node(layer, tensors, multi, _output_shape(layer, shapes))
    layer.__dict__.setdefault("_nodes", []).append(node)
    return node.output


def _normalize(op: str, what: str, value) -> tuple[list[SymbolicTensor], list | None]:
    """(tensors, dict keys or None) of the inputs/outputs argument."""
    keys = None
    if isinstance(value, dict):
        keys = list(value)
        value = list(value.values())
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if not getattr(item, "_is_symbolic_tensor", False):
            raise TypeError(f"{op}: {what} must be symbolic tensors (from tc.Input and layer "
                            f"calls). Received: {type(item).__name__}")
    return items, keys


class Functional(Model):
    """A model defined by a graph of layer calls: ``Model(inputs, outputs)``."""

    config_builds = True  # the config holds the InputLayer shapes

    @property
    def _checks_shapes(self) -> bool:
        """x/y shape and label checks apply to one-input, one-output models."""
        return len(self._inputs) == 1 and len(self._outputs) == 1

    def __init__(self, inputs, outputs, name: str | None = None, trainable: bool = True):
        super().__init__(name=name, trainable=trainable)
        self._inputs, self._input_keys = _normalize("Model", "inputs", inputs)
        self._outputs, self._output_keys = _normalize("Model", "outputs", outputs)
        self._single_output = not isinstance(outputs, (list, tuple, dict))
        for tensor in self._inputs:
            if not isinstance(tensor.node.layer, InputLayer):
                raise TypeError("Model: inputs must come straight from tc.Input(...). "
                                f"Received: an output of layer '{tensor.node.layer.name}'")
        nodes: list[Node] = []
        seen: set[int] = set()
        visiting: set[int] = set()

        def visit(node: Node) -> None:
            if id(node) in seen:
                return
            if id(node) in visiting:
                raise ValueError("Model: the graph has a cycle")
            visiting.add(id(node))
            for tensor in node.inputs:
                visit(tensor.node)
            visiting.discard(id(node))
            seen.add(id(node))
            nodes.append(node)

        for tensor in self._outputs:
            visit(tensor.node)
        input_nodes = {id(t.node) for t in self._inputs}
        for node in nodes:
            if not node.inputs and id(node) not in input_nodes:
                raise ValueError(f"Model: output depends on input '{node.layer.name}' that is "
                                 "not listed in inputs")
        object.__setattr__(self, "_graph_nodes", nodes)
        layers_in_order: list[Layer] = []
        for node in nodes:
            if all(node.layer is not other for other in layers_in_order):
                layers_in_order.append(node.layer)
        names = [layer.name for layer in layers_in_order]
        if len(set(names)) != len(names):
            raise ValueError(f"Model: layer names must be unique. Received: {names}")
        object.__setattr__(self, "_graph_layers", layers_in_order)
        consumers: dict[int, int] = {}
        for node in nodes:
            for tensor in node.inputs:
                consumers[id(tensor)] = consumers.get(id(tensor), 0) + 1
        object.__setattr__(self, "_consumers", consumers)
        self.output_names = self._output_keys or _unique([t.node.layer.name
                                                          for t in self._outputs])
        self.input_names = self._input_keys or [t.node.layer.name for t in self._inputs]
        self.built = True
        self.build_input_shape = self._inputs[0].shape if len(self._inputs) == 1 else \
            [t.shape for t in self._inputs]

    # ------------------------------------------------------------------ structure
    @property
    def layers(self) -> list[Layer]:
        """Every layer of the graph (inputs included), in execution order."""
        return list(self._graph_layers)

    @property
    def inputs(self) -> list[SymbolicTensor]:
        """The symbolic inputs."""
        return list(self._inputs)

    @property
    def outputs(self) -> list[SymbolicTensor]:
        """The symbolic outputs."""
        return list(self._outputs)

    @property
    def output_activations(self) -> list[str | None]:
        """Final activation of each output's layer (for fusing with the loss)."""
        return [getattr(t.node.layer, "output_activation", None)
                if not t.node.multi and self._consumers.get(id(t), 0) == 0 else None
                for t in self._outputs]

    def build(self, input_shape) -> None:
        """Functional models are built when defined."""

    def compute_output_shape(self, input_shape) -> tuple:
        """Output shape (single-output models)."""
        return self._outputs[0].shape

    # ------------------------------------------------------------------ running
    def _bind_inputs(self, inputs) -> dict[int, tc.Tensor]:
        from tensorcore.models.model import _to_tensors

        count = len(self._inputs)
        if isinstance(inputs, dict):
            keys = self.input_names
            missing = [k for k in keys if k not in inputs]
            if missing:
                raise ValueError(f"{self.name}: inputs dict has no entry for {missing}; "
                                 f"expected keys {keys}")
            values = [inputs[k] for k in keys]
        elif count == 1:
            values = [inputs[0] if isinstance(inputs, (list, tuple)) and len(inputs) == 1
                      and not np.isscalar(inputs[0]) and np.ndim(inputs[0]) >= 2 else inputs]
        else:
            if not isinstance(inputs, (list, tuple)) or len(inputs) != count:
                raise ValueError(f"{self.name}: the model has {count} inputs "
                                 f"{self.input_names}; give a list of {count} arrays or a dict. "
                                 f"Received: {type(inputs).__name__}")
            values = list(inputs)
        bound = {}
        for tensor, value in zip(self._inputs, values):
            value = _to_tensors(value)
            if tuple(value.shape[1:]) != tuple(tensor.shape[1:]):
                raise ValueError(f"{self.name}: input '{tensor.node.layer.name}' expects shape "
                                 f"{tensor.shape}. Received: shape {tuple(value.shape)}")
            bound[id(tensor)] = value
        return bound

    def _run(self, inputs, training: bool, fuse: list[bool] | None = None):
        values = self._bind_inputs(inputs)
        logits_of = {}
        if fuse is not None:
            activations_ = self.output_activations
            for tensor, wanted, activation in zip(self._outputs, fuse, activations_):
                if wanted and activation is not None:
                    logits_of[id(tensor.node)] = True
        for node in self._graph_nodes:
            if not node.inputs:
                continue
            args = [values[id(t)] for t in node.inputs]
            arg = args if node.multi else args[0]
            if id(node) in logits_of:
                values[id(node.output)] = node.layer.call_logits(arg, training=training)
            else:
                values[id(node.output)] = node.layer(arg, training=training)
        outs = [(values[id(t)], id(t.node) in logits_of) for t in self._outputs]
        return outs

    def call(self, inputs, training: bool = False):
        """Run the graph on real inputs."""
        outs = [value for value, _ in self._run(inputs, training)]
        if self._output_keys is not None:
            return dict(zip(self._output_keys, outs))
        return outs[0] if self._single_output else outs

    def __call__(self, inputs, training: bool = False):
        """Run the graph (or, on symbolic inputs, nest this model in another graph)."""
        from tensorcore.layers.base import is_symbolic

        if is_symbolic(inputs):
            return symbolic_call(self, inputs)
        return self.call(inputs, training=training)

    def _forward_for_loss(self, x, training: bool, fuse: list[bool]) -> list[tuple]:
        return self._run(x, training, fuse)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """Layers, the calls between them, and the model's inputs and outputs."""
        from tensorcore import layers

        index_of: dict[int, tuple[str, int]] = {}
        per_layer: dict[int, int] = {}
        node_specs = []
        for node in self._graph_nodes:
            position = per_layer.get(id(node.layer), 0)
            per_layer[id(node.layer)] = position + 1
            index_of[id(node.output)] = (node.layer.name, position)
            node_specs.append({"layer": node.layer.name, "multi": node.multi,
                               "args": [list(index_of[id(t)]) for t in node.inputs]})
        return {
            "name": self.name, "trainable": self.trainable,
            "layers": [layers.serialize(layer) for layer in self._graph_layers],
            "nodes": node_specs,
            "inputs": [list(index_of[id(t)]) for t in self._inputs],
            "outputs": [list(index_of[id(t)]) for t in self._outputs],
            "input_keys": self._input_keys, "output_keys": self._output_keys,
            "single_output": self._single_output,
        }

    @classmethod
    def from_config(cls, config: dict) -> Functional:
        """Rebuild the graph from get_config()'s output (fresh weights)."""
        from tensorcore import layers

        built = {}
        for spec in config["layers"]:
            layer = layers.deserialize(spec)
            built[layer.name] = layer
        produced: dict[tuple[str, int], SymbolicTensor] = {}
        counts: dict[str, int] = {}
        for spec in config["nodes"]:
            name = spec["layer"]
            layer = built[name]
            position = counts.get(name, 0)
            counts[name] = position + 1
            if isinstance(layer, InputLayer):
                node = Node(layer, [], False, (None,) + layer.shape)
                layer.__dict__.setdefault("_nodes", []).append(node)
                produced[(name, position)] = node.output
                continue
            args = [produced[(a[0], int(a[1]))] for a in spec["args"]]
            produced[(name, position)] = layer(args if spec["multi"] else args[0])
        inputs = [produced[(a[0], int(a[1]))] for a in config["inputs"]]
        outputs = [produced[(a[0], int(a[1]))] for a in config["outputs"]]
        if config.get("input_keys"):
            inputs = dict(zip(config["input_keys"], inputs))
        elif len(inputs) == 1:
            inputs = inputs[0]
        if config.get("output_keys"):
            outputs = dict(zip(config["output_keys"], outputs))
        elif config.get("single_output", len(outputs) == 1):
            outputs = outputs[0]
        return cls(inputs, outputs, name=config.get("name"),
                   trainable=config.get("trainable", True))


def _unique(names: list[str]) -> list[str]:
    out, seen = [], {}
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}_{count}")
    return out
