"""benchmarks/study_fashion.py and the Fashion-MNIST loader: the parts that need
no Fashion-MNIST (the study's runs are measured in docs/study.rst)."""

import gzip
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def study():
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(
        "study_fashion", BENCHMARKS / "study_fashion.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)
        sys.path.remove(str(BENCHMARKS))


def write_idx(path: Path, array: np.ndarray) -> None:
    """An idx file of unsigned bytes, gzip-compressed, as the dataset ships."""
    header = bytes([0, 0, 0x08, array.ndim])
    header += np.asarray(array.shape, dtype=">i4").tobytes()
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_the_loader_reads_idx_files_and_names_the_package_when_absent(study, tmp_path):
    data = sys.modules["_data"]
    with pytest.raises(SystemExit, match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist(tmp_path)
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([9, 0, 3]))
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images[:2])
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([1, 2]))
    X, y, X_test, y_test = data.load_fashion_mnist(tmp_path)
    assert X.shape == (3, 784) and X.dtype == np.float32
    np.testing.assert_allclose(X[1, :3], np.array([784, 785, 786]) % 256 / 255)
    assert y.tolist() == [9, 0, 3] and y.dtype == np.int64
    assert X_test.shape == (2, 784) and y_test.tolist() == [1, 2]
    (tmp_path / "bad.gz").write_bytes(
        gzip.compress(b"\x00\x00\x0d\x01\x00\x00\x00\x01")
    )
    with pytest.raises(ValueError, match="not an idx file of unsigned bytes"):
        data._read_idx(tmp_path / "bad.gz")


def rows(accuracy, nfr, lambda_c=(0.0, 0.0, 0.1, 0.1), flip_cost=(1, 2, 1, 2)):
    return pd.DataFrame(
        {
            "lambda_c": lambda_c,
            "flip_cost": [float(c) for c in flip_cost],
            "cv_accuracy": accuracy,
            "cv_nfr": nfr,
        }
    )


def test_the_rules_pick_by_hand(study):
    frame = rows([0.900, 0.896, 0.899, 0.890], [0.040, 0.020, 0.030, 0.010])
    # cost 2: accuracy - NFR = 0.860, 0.876, 0.869, 0.880 -> row 3.
    assert study.pick(frame, "cost 2") == 3
    # cost 1.5: 0.880, 0.886, 0.884, 0.885 -> row 1.
    assert study.pick(frame, "cost 1.5") == 1
    # within: rows within half a point of the best (0.900) are 0, 1, 2; the
    # fewest new errors among them is row 1. The same with plain's 0.900.
    assert study.pick(frame, "within") == 1
    assert study.pick(frame, "within plain") == 1
    # When plain is not the most accurate, "within plain" is measured from it.
    lower = rows([0.895, 0.891, 0.905, 0.890], [0.040, 0.020, 0.030, 0.010])
    assert study.pick(lower, "within") == 2  # only row 2 is within 0.905 - 0.005
    assert study.pick(lower, "within plain") == 3  # 0.890 >= 0.895 - 0.005


def test_smaller_grids_keep_plain_training(study):
    frame = pd.DataFrame(
        {
            "lambda_c": [0.0, 0.0, 1.0, 0.03, 0.1],
            "dissonance": [
                "plain",
                "plain",
                "new_error",
                "focal_distillation",
                "focal_distillation",
            ],
            "flip_cost": [1.0, 2.0, 1.0, 1.0, 2.0],
        }
    )
    keep = study.grid_rows(frame, ["focal_distillation"], None, (1.0, 2.0))
    assert keep.tolist() == [True, True, False, True, True]
    keep = study.grid_rows(
        frame, ["focal_distillation"], {"focal_distillation": (0.03,)}, (1.0,)
    )
    assert keep.tolist() == [True, False, False, True, False]
