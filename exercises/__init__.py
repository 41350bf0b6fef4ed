"""The exercises: write the kernels of a CNN yourself, then train minigrad's layers on them.

Each module holds stubs with the exact signatures the layers call; each stub's docstring gives the
shapes, the math from the lecture notes and hints, and it raises ``NotImplementedError`` until you
replace its body. Suggested order:

    1. relu.py        relu_forward / relu_backward
    2. conv.py        conv_output_size: W_out = (W - F + 2P)/S + 1
    3. conv.py        conv2d_forward / conv2d_backward (im2col + matrix products), then conv1d_*
    4. pooling.py     maxpool2d_* and avgpool2d_* (bonus: sumpool2d_*, l2pool2d_*)
    5. softmax_ce.py  softmax, log_softmax, softmax_cross_entropy_forward / _backward
    6. residual.py    ResidualBlock, built from minigrad.nn layers

Every kernel comes as a pair: ``*_forward(inputs..., options...) -> (out, cache)`` and
``*_backward(dout, cache) -> gradients`` (one per array input; the convolutions' backward may
also be told which gradients are needed, see its docstring). Arrays are NCHW NumPy or CuPy
arrays: take the array module from the data, ``xp = get_array_module(x)``, and call
``xp.<function>`` so the same code runs on a GPU. Keep float32 as float32, never modify an input
in place, and raise one-line ValueError/TypeError messages that name the bad argument.

Use your kernels inside minigrad's layers (Conv2d, MaxPool2d, ReLU, CrossEntropyLoss ...):

    import minigrad
    minigrad.use_kernels("exercises")

Check your convolution with your own tests in exercises/test_my_conv.py:

    python -m pytest exercises/test_my_conv.py
"""
