"""tensorcore: a small, fast tensor engine with autodiff and a Keras-style training library.

    import tensorcore as tc
    x = tc.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x @ x.T).sum().backward()
"""

from __future__ import annotations

__version__ = "0.1.0"

from .dtypes import float32, float64, int32, int64, bool_ as bool  # noqa: A001
from .tensor import (Tensor, tensor, as_tensor, from_numpy, from_dlpack, zeros, ones, full,
                     zeros_like, ones_like, arange, eye)
from . import _methods  # noqa: F401  (attaches operators and methods to Tensor)
from . import _optable, ops_elementwise as _ew
from .ops_elementwise import where, clip
from .ops_reduce import sum, mean, max, min, var, argmax, argmin, logsumexp
from .ops_shape import (reshape, flatten, permute_dims, transpose, swapaxes, expand_dims,
                        squeeze, broadcast_to, concatenate, stack)
from .ops_matrix import matmul, softmax, log_softmax
from .ops_sort import sort, argsort, cumsum, nonzero, searchsorted, repeat, tile
from .ops_conv import (conv2d, conv1d, max_pool2d, avg_pool2d, max_pool1d, avg_pool1d,
                       global_avg_pool2d, global_max_pool2d, global_avg_pool1d,
                       global_max_pool1d)
from .autograd import no_grad, enable_grad, is_grad_enabled
from . import autograd, random
from .backend import set_backend, get_backend, set_num_threads, get_num_threads
from ._config import show_config

__all__ = [
    "Tensor", "tensor", "as_tensor", "from_numpy", "from_dlpack", "zeros", "ones", "full",
    "zeros_like", "ones_like", "arange", "eye", "float32", "float64", "int32", "int64", "bool",
    "where", "clip",
    "sum", "mean", "max", "min", "var", "argmax", "argmin",
    "logsumexp", "reshape", "flatten",
    "permute_dims", "transpose", "swapaxes", "expand_dims", "squeeze", "broadcast_to",
    "concatenate", "stack", "matmul", "softmax", "log_softmax", "conv2d", "conv1d",
    "max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d", "global_avg_pool2d",
    "global_max_pool2d", "global_avg_pool1d", "global_max_pool1d", "no_grad", "enable_grad",
    "is_grad_enabled", "autograd", "random", "set_backend", "get_backend", "set_num_threads",
    "get_num_threads", "show_config", "sort", "argsort", "cumsum", "nonzero", "searchsorted",
    "repeat", "tile",
]

# Every op of the op table (tensorcore/_optable.py) is a function of the package.
globals().update({_name: getattr(_ew, _name) for _name in _optable.names()})
__all__ += list(_optable.names())
# ... and under NumPy's names where they differ (tc.arcsin is tc.asin).
globals().update({_alias: getattr(_ew, _name) for _alias, _name in _optable.ALIASES.items()})
__all__ += list(_optable.ALIASES)


def __getattr__(name: str):
    # The Keras-style library and helpers load on first access, keeping `import tensorcore`
    # fast: tc.layers, tc.models, ... and tc.testing.
    import importlib
    lazy = {"layers", "models", "optimizers", "losses", "metrics", "callbacks", "datasets",
            "utils", "activations", "initializers", "testing", "backend", "distributed"}
    if name in lazy:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "Input":
        from .models.functional import Input
        return Input
    if name == "saving":
        return importlib.import_module(f"{__name__}.saving")
    if name == "data":
        return importlib.import_module(f"{__name__}.data")
    if name in ("get_include", "get_library_path"):
        from . import _embed
        return getattr(_embed, name)
    raise AttributeError(f"module 'tensorcore' has no attribute {name!r}")
