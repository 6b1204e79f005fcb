"""A scalar reverse-mode engine: backpropagation on a graph you can inspect (chapter 3).

A :class:`Value` holds one number, the Values it was computed from (its parents) and,
for each parent u, the local derivative ∂v/∂u, taken when v is computed. ``backward``
sorts the graph topologically and runs one loop over it in reverse, applying the chain
rule of several variables (book equation ``eq-chain-multi``):
∂f/∂u = Σ over the nodes v that u feeds of ∂f/∂v · ∂v/∂u. The local derivatives show
the gate patterns: add distributes the arriving gradient, multiply swaps the inputs'
values, max routes it to the larger input (and splits it equally at a tie). For teaching:
clarity before speed, one node per scalar operation. Every local derivative is computed
from its analytic formula in a form without cancellation (tanh′ as 4e/(1 + e)² with
e = exp(−2|u|), not 1 − tanh²u), so it is accurate to a few units in the last place;
a value or local derivative that is not a finite float64 number is refused with a
ValueError, and so is a gradient that overflows during ``backward``.
"""

from __future__ import annotations

import math
from numbers import Real

__all__ = ["Value"]


class Value:
    """A graph node: ``data`` (float), ``grad`` (∂f/∂self after ``f.backward()``, else 0.0),
    ``parents`` (pairs of a parent Value and the local derivative ∂self/∂parent), ``op``
    (the operation that made it, "" for an input) and ``label`` (a name for printing).

    ``Value(data, label="")`` makes an input node; ``data`` must be a real number (not a
    bool) that is finite in float64. Operations: ``+ - * / **`` (with Values or numbers;
    ``**`` takes a constant exponent), ``exp``, ``log``, ``tanh``, ``sigmoid``, ``relu``,
    ``max``.
    """

    def __init__(self, data, label="", *, _parents=(), _op=""):
        if isinstance(data, bool) or not isinstance(data, Real):
            raise TypeError(f"a Value holds one real number, got {data!r} ({type(data).__name__})")
        where = f" (from {_op})" if _op else ""
        try:
            number = float(data)
        except OverflowError:  # an int beyond float64's range
            raise ValueError(f"a Value holds a finite float64 number, got an integer of "
                             f"{len(str(abs(int(data))))} digits{where}") from None
        if not math.isfinite(number):
            raise ValueError(f"a Value holds a finite number, got {data!r}{where}")
        for parent, local in _parents:
            if not math.isfinite(local):
                raise ValueError(f"{_op} at u = {parent.data!r}: the local derivative is {local!r}, "
                                 f"not a finite float64 number")
        if not isinstance(label, str):
            raise TypeError(f"label must be a string, got {label!r} ({type(label).__name__})")
        self.data, self.grad, self.label = number, 0.0, label
        self.parents, self.op = tuple(_parents), _op

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _wrap(other, op):
        if isinstance(other, Value):
            return other
        if isinstance(other, bool) or not isinstance(other, Real):
            raise TypeError(f"{op} needs a Value or a real number, got {other!r} ({type(other).__name__})")
        return Value(other)

    # ---- the operations: value, and (parent, local derivative) pairs -------------
    def __add__(self, other):  # ∂(u + w)/∂u = 1 = ∂(u + w)/∂w: add distributes
        other = self._wrap(other, "+")
        return Value(self.data + other.data, _parents=((self, 1.0), (other, 1.0)), _op="+")

    def __mul__(self, other):  # ∂(u w)/∂u = w, ∂(u w)/∂w = u: multiply swaps
        other = self._wrap(other, "*")
        return Value(self.data * other.data,
                     _parents=((self, other.data), (other, self.data)), _op="*")

    def __pow__(self, p):  # ∂(u^p)/∂u = p u^(p−1), for a constant real exponent p
        if isinstance(p, bool) or not isinstance(p, Real):
            raise TypeError(f"** needs a constant real exponent, got {p!r} ({type(p).__name__})")
        u = self.data
        if not math.isfinite(p) or (u == 0 and 0 < p < 1) or (u == 0 and p < 0) or (u < 0 and p != int(p)):
            raise ValueError(f"u**{p} is not differentiable (or not real) at u = {u}")
        if p == 0:  # u^0 = 1 for every u, a constant: derivative 0 (also at u = 0)
            return Value(1.0, _parents=((self, 0.0),), _op="**0")
        try:
            return Value(u ** p, _parents=((self, p * u ** (p - 1)),), _op=f"**{p:g}")
        except OverflowError:
            raise ValueError(f"u**{p} or its derivative overflows float64 at u = {u!r}") from None

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._wrap(other, "-"))

    def __truediv__(self, other):
        return self * self._wrap(other, "/") ** -1

    __radd__, __rmul__ = __add__, __mul__

    def __rsub__(self, other):
        return self._wrap(other, "-") - self

    def __rtruediv__(self, other):
        return self._wrap(other, "/") / self

    def exp(self):
        """e^u; local derivative ∂e^u/∂u = e^u."""
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise ValueError(f"exp({self.data}) overflows float64") from None
        return Value(e, _parents=((self, e),), _op="exp")

    def log(self):
        """ln u for u > 0; local derivative 1/u (refused where 1/u overflows, u < ~5.6e-309)."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive number, got {self.data}")
        return Value(math.log(self.data), _parents=((self, 1.0 / self.data),), _op="log")

    def tanh(self):
        """tanh u (``eq-tanh``); local derivative 1 − tanh²u (``eq-tanh-prime``).

        The derivative is computed as 4e/(1 + e)² with e = exp(−2|u|), the same number
        without the cancellation of 1 − tanh²u, which loses all digits beyond u = ±19 or so.
        """
        e = math.exp(-2.0 * abs(self.data))
        return Value(math.tanh(self.data), _parents=((self, 4.0 * e / (1.0 + e) ** 2),), _op="tanh")

    def sigmoid(self):
        """σ(u) (``eq-sigmoid``); local derivative σ(u)(1 − σ(u)) (``eq-sigmoid-prime``)."""
        e = math.exp(-abs(self.data))  # the overflow-free form of fcnn_lib.sigmoid
        s, rest = (1 / (1 + e), e / (1 + e)) if self.data >= 0 else (e / (1 + e), 1 / (1 + e))
        return Value(s, _parents=((self, s * rest),), _op="sigmoid")  # rest = 1 − σ(u) = σ(−u)

    def relu(self):
        """max(u, 0) (``eq-relu``); local derivative 1 if u > 0, else 0 (``eq-relu-prime``)."""
        return Value(max(self.data, 0.0), _parents=((self, float(self.data > 0)),), _op="relu")

    def max(self, other):
        """max(u, w): local derivative 1 for the larger input and 0 for the other; at a tie
        u = w, ½ for each (the same whatever the order, and max(u, u) = u gets 1)."""
        other = self._wrap(other, "max")
        d_self = 1.0 if self.data > other.data else 0.0 if self.data < other.data else 0.5
        return Value(max(self.data, other.data),
                     _parents=((self, d_self), (other, 1.0 - d_self)), _op="max")

    # ---- reverse mode --------------------------------------------------------------
    def topological_order(self):
        """Every node self depends on, each after all of its parents; self is last."""
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # depth-first search without recursion (deep graphs are fine)
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p, _ in node.parents if id(p) not in seen)
        return order

    def backward(self):
        """Set ``node.grad = ∂self/∂node`` for every node self depends on (``eq-chain-multi``).

        First the ``grad`` of self and of every node it was computed from is reset to 0,
        so calling it twice gives the same result; nodes outside this graph keep theirs.
        Returns the topological order it used. Raises ValueError if a gradient
        overflows float64.
        """
        order = self.topological_order()
        for node in order:
            node.grad = 0.0
        self.grad = 1.0  # ∂f/∂f
        for node in reversed(order):  # every node is finished before its parents
            for parent, local in node.parents:
                parent.grad += node.grad * local  # one term per path: they add
                if not math.isfinite(parent.grad):
                    raise ValueError(f"the gradient overflows float64 at an input of {node.op} "
                                     f"(u = {parent.data!r})")
        return order
