"""The text table printed by Model.summary()."""

from __future__ import annotations


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def format_summary(model) -> str:
    """Layers with output shapes and parameter counts, then the totals."""
    rows = []
    graph = getattr(model, "_graph_nodes", None)
    if graph is not None:
        rows = _graph_rows(graph)
    else:
        sequential = type(model).__name__ == "Sequential" or hasattr(model, "_layers")
        shape = model.build_input_shape if sequential else None
        for layer in model.layers:
            if shape is not None:
                shape = layer.compute_output_shape(shape)
                shape_text = _shape_text(shape)
            else:
                shape_text = "?"
            params = layer.count_params() if layer.built else 0
            rows.append((f"{layer.name} ({type(layer).__name__})", shape_text, f"{params:,}"))
    header = ("Layer (type)", "Output Shape", "Param #", "Connected to")[:len(rows[0])
                                                                         if rows else 3]
    columns = len(header)
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i])
              for i in range(columns)]
    widths[:3] = [max(widths[0], 28), max(widths[1], 20), max(widths[2], 10)]
    total_width = sum(widths) + 2 * (columns - 1)

    def line(cells) -> str:
        text = f"{cells[0]:<{widths[0]}}  {cells[1]:<{widths[1]}}  {cells[2]:>{widths[2]}}"
        return text + (f"  {cells[3]:<{widths[3]}}" if columns == 4 else "")

    trainable = sum(int(w.size) for w in model.trainable_weights)
    total = sum(int(w.size) for w in model.weights)
    out = [f'Model: "{model.name}"', "=" * total_width, line(header), "=" * total_width]
    for index, row in enumerate(rows):
        out.append(line(row))
        out.append(("-" if index < len(rows) - 1 else "=") * total_width)
    if not rows:
        out.append("=" * total_width)
    out.append(f" Total params: {total:,} ({total * 4 / 1024:.2f} KB)")
    out.append(f" Trainable params: {trainable:,} ({trainable * 4 / 1024:.2f} KB)")
    out.append(f" Non-trainable params: {total - trainable:,} "
               f"({(total - trainable) * 4 / 1024:.2f} KB)")
    if not model.built:
        out.append(" (the model is not built yet: parameters appear once it has seen data "
                   "or the first layer has input_shape=)")
    return "\n".join(out)


def _graph_rows(nodes) -> list[tuple[str, str, str, str]]:
    """One row per layer call of a functional model, with the calls feeding it."""
    rows = []
    index_of: dict[int, str] = {}
    calls: dict[int, int] = {}
    for node in nodes:
        position = calls.get(id(node.layer), 0)
        calls[id(node.layer)] = position + 1
        index_of[id(node.output)] = f"{node.layer.name}[{position}]"
        params = node.layer.count_params() if position == 0 and node.layer.built else 0
        inbound = ", ".join(index_of[id(t)] for t in node.inputs) or "-"
        rows.append((f"{node.layer.name} ({type(node.layer).__name__})",
                     _shape_text(node.output.shape), f"{params:,}", inbound))
    return rows
