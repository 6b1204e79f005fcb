"""fcnn_lib: the small library behind the course "Backpropagation, derived and proven".

Conventions: a batch holds one example per row (X of shape (m, n_in)); a dense layer's
W has shape (n_out, n_in), so Z = X Wᵀ + b; float64 throughout; randomness only from
an explicit seeded ``numpy.random.Generator``; bad input raises ValueError or
TypeError naming the shapes or values at fault, and nothing broadcasts silently.
"""

from .activations import (
    get_activation,
    identity,
    identity_prime,
    leaky_relu,
    leaky_relu_prime,
    relu,
    relu_prime,
    sigmoid,
    sigmoid_prime,
    softmax,
    softmax_jacobian,
    softmax_prime_diagonal,
    softmax_vjp,
    tanh,
    tanh_prime,
)
from .datasets import load_digits, one_hot, train_val_test_split
from .conv import (
    col2im,
    conv2d_backward,
    conv2d_backward_loop,
    conv2d_forward,
    conv2d_forward_fft,
    conv2d_forward_loop,
    conv_output_shape,
    im2col,
)
from .gradcheck import (
    GradCheck,
    check_gradient,
    check_network,
    max_rel_error,
    numerical_gradient,
    relative_error,
)
from .init import init_bias, init_params, init_std, init_weights
from .layers import Activation, Conv2D, Dense, Flatten, Layer, WeightedLayer
from .losses import (
    Loss,
    binary_cross_entropy,
    categorical_cross_entropy,
    get_loss,
    mse,
    sigmoid_cross_entropy,
    softmax_cross_entropy,
)
from .engine import Value
from .network import LayerTrace, Sequential, mlp
from .training import fit, minibatches, sgd_step, train_step
from .shapecheck import check_proposed_gradient
from . import backprop  # the δ recursion in one place (chapter 5): F.backprop.forward/backward

from . import book  # book support (glue, figures, the running example): F.book.<name>

__version__ = "0.1.0"
