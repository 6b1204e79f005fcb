import pytest

from fcnn_lib.book.numbers import at_most, stable


def test_stable_rounds_last_bits_away():
    assert stable(0.1 + 0.2) == 0.3
    assert stable(1 / 3) == 0.3333333333
    assert stable(2.0000000000000004) == 2.0


def test_at_most():
    assert at_most(3.2e-11) == "1e-10"
    assert at_most(1e-10) == "1e-10"
    assert at_most(0) == "0"
    with pytest.raises(ValueError, match="-1"):
        at_most(-1)


def test_stable_refuses_nan():
    with pytest.raises(ValueError, match="nan"):
        stable(float("nan"))


def test_stable_keeps_the_largest_float_finite():
    import numpy as np

    big = float(np.finfo(float).max)
    assert stable(big) == big and stable(-big) == -big
