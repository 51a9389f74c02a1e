"""The text table printed by Model.summary()."""

from __future__ import annotations


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def format_summary(model) -> str:
    """Layers with output shapes and parameter counts, then the totals."""
    rows = []
    shape = model.build_input_shape
    for layer in model.layers:
        if shape is not None:
            shape = layer.compute_output_shape(shape)
            shape_text = _shape_text(shape)
        else:
            shape_text = "?"
        params = layer.count_params() if layer.built else 0
        rows.append((f"{layer.name} ({type(layer).__name__})", shape_text, f"{params:,}"))
    header = ("Layer (type)", "Output Shape", "Param #")
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i])
              for i in range(3)]
    widths = [max(widths[0], 28), max(widths[1], 20), max(widths[2], 10)]
    total_width = sum(widths) + 4

    def line(cells) -> str:
        return f"{cells[0]:<{widths[0]}}  {cells[1]:<{widths[1]}}  {cells[2]:>{widths[2]}}"

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
