"""The course's running example: one small network with given numbers (chapters 1, 5).

A 2-3-2 network: two inputs, three sigmoid hidden units, two sigmoid outputs, trained
on a batch of four examples with mean squared error. The numbers are chosen by hand
(simple decimals) so that a reader can follow them; nothing here is random.
"""

from __future__ import annotations

import numpy as np

from ..network import Sequential, mlp

#: The hidden layer's weights W⁽¹⁾, of shape (3, 2); its biases b⁽¹⁾ have shape (3,).
W1 = np.array([[0.1, 0.4], [-0.3, 0.2], [0.5, -0.6]])
b1 = np.array([0.1, -0.1, 0.2])
#: The output layer's weights W⁽²⁾, of shape (2, 3); its biases b⁽²⁾ have shape (2,).
W2 = np.array([[0.3, -0.2, 0.6], [-0.5, 0.4, 0.1]])
b2 = np.array([0.05, -0.05])
#: The inputs X, four examples stored one per row, of shape (4, 2); the targets Y
#: have the same shape.
X = np.array([[1.0, 0.5], [0.0, 1.0], [-1.0, 2.0], [0.5, -1.5]])
Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])


def running_example() -> tuple[Sequential, np.ndarray, np.ndarray]:
    """Return ``(net, X, Y)``: the 2-3-2 sigmoid network with its given parameters,
    the inputs X (4, 2) and the targets Y (4, 2). Loss: ``"mse"`` (book ``eq-mse``).

    Every call returns fresh copies, so a chapter may train the network freely.
    """
    net = mlp([2, 3, 2], activation="sigmoid", output="sigmoid", loss="mse", init="zeros")
    net.set_params([(W1, b1), (W2, b2)])
    return net, X.copy(), Y.copy()
