"""A real consumer of the array API namespace: scikit-learn with array_api_dispatch=True runs
its preprocessing, LabelEncoder, metrics and LinearDiscriminantAnalysis on tensorcore arrays
and matches its NumPy results. Skipped when scikit-learn is not installed (it is not a
dependency). Runs in a child process: scikit-learn's dispatch needs SCIPY_ARRAY_API=1 set
before scipy is first imported, which another test of this process may already have done."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("array_api_compat")

_CHILD = textwrap.dedent("""
    import numpy as np
    import sklearn
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.metrics import accuracy_score, mean_squared_error, r2_score
    from sklearn.preprocessing import (LabelEncoder, MaxAbsScaler, MinMaxScaler, Normalizer,
                                       StandardScaler)

    import tensorcore as tc

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 5)) * [1.0, 3.0, 0.5, 2.0, 10.0] + [0.0, 1.0, -2.0, 5.0, 0.0]
    y = (x[:, 0] + 0.3 * rng.standard_normal(40) > 0).astype(np.int64)
    tx, ty = tc.tensor(x), tc.tensor(y)

    def check(ours, reference, what, atol=1e-12):
        assert isinstance(ours, tc.Tensor), (what, type(ours))
        np.testing.assert_allclose(ours.numpy(), reference, rtol=1e-10, atol=atol,
                                   err_msg=what)

    for make in (StandardScaler, MinMaxScaler, MaxAbsScaler, Normalizer):
        reference = make().fit(x)
        with sklearn.config_context(array_api_dispatch=True):
            ours = make().fit(tx)
            check(ours.transform(tx), reference.transform(x), make.__name__)
            if hasattr(ours, "inverse_transform"):
                check(ours.inverse_transform(ours.transform(tx)), x, make.__name__ + " inv")

    reference = LinearDiscriminantAnalysis(solver="eigen").fit(x, y)
    with sklearn.config_context(array_api_dispatch=True):
        lda = LinearDiscriminantAnalysis(solver="eigen").fit(tx, ty)
        check(lda.coef_, reference.coef_, "lda coef", atol=1e-9)
        check(lda.predict(tx), reference.predict(x), "lda predict")
        check(lda.predict_proba(tx), reference.predict_proba(x), "lda proba", atol=1e-9)
        labels = LabelEncoder().fit(tc.tensor(np.array([3, 1, 3, 7])))
        check(labels.transform(tc.tensor(np.array([7, 1, 3]))), [2, 0, 1], "LabelEncoder")
        scores = (accuracy_score(ty, lda.predict(tx)), r2_score(tx[:, 0], tx[:, 1]),
                  mean_squared_error(tx[:, 0], tx[:, 1]))
    expected = (accuracy_score(y, reference.predict(x)), r2_score(x[:, 0], x[:, 1]),
                mean_squared_error(x[:, 0], x[:, 1]))
    np.testing.assert_allclose([float(s) for s in scores], expected, rtol=1e-12)
    print("ok")
""")


def test_scikit_learn_runs_on_tensorcore_arrays():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, SCIPY_ARRAY_API="1",
               PYTHONPATH=os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]
