"""The catalog of misconceptions: the mistakes real hand-ins of this homework make.

Each entry is a small, named variation of the reference (`reference.backprop.variations`)
with a stable id, a paragraph for the student and the correct formula.  Run on
a check's inputs, it yields what a submission with that mistake returns, so a
failing check can be matched against it (`grader.engine.diagnose`).  An entry with
several variations (a step size, a number of decimals) is reproduced by any one
of them.
"""

from __future__ import annotations

import itertools

from grader.core.cases import Case
from grader.core.catalog import Misconception
from grader.core.spec import Check
from reference.backprop.cases import xyw
from reference.backprop.variations import Variation, quantities

BOTH = ("numpy", "torch")
NUMPY = ("numpy",)
TORCH = ("torch",)
DELTA_RULE = (
    "delta_h1 = (delta_o1*w5 + delta_o2*w6) * f'(z_h1), delta_h2 = (delta_o1*w7 + delta_o2*w8) * f'(z_h2), "
    "delta_o = (o - y) * f'(z_o), f'(z) = f(z)*(1 - f(z)) for the sigmoid; dE/dw1 = delta_h1*x1"
)
COURSE_NETWORK = (
    "h1 = f(w1*x1 + w3*x2), h2 = f(w2*x1 + w4*x2), o1 = f(w5*h1 + w7*h2), o2 = f(w6*h1 + w8*h2)"
)
AUTOGRAD_RULE = (
    "o = torch_forward(x, w) with w.requires_grad_(); E = loss(o, y); E.backward(); dE/dw = w.grad"
)
TRAINING_LOOP = "for epoch in range(epochs): losses.append(E(w)); w = w - lr * dE/dw(w)"
# what a function may read from the file instead of its arguments: any of x, y and w
GIVEN_SUBSETS = tuple(
    names for size in (1, 2, 3) for names in itertools.combinations(("x", "y", "w"), size)
)
STEP_SIZES = (0.01, 0.1, 0.5, 1.0, 2.0, 5.0)  # the course's grid and the usual defaults


def predict(variation: Variation, check: Check, case: Case, book) -> dict:
    """What the check's entry point returns on `case` with `variation` built in."""
    return quantities(variation, check.entry, check.args, *xyw(case), xyw(book.given_case))


CATALOG: tuple[Misconception, ...] = (
    Misconception(
        "hidden-delta-from-weight-grads",
        "Hidden-layer delta built from the output-weight gradients",
        "The error reaching a hidden unit was built from the gradients of the output weights, "
        "(dE/dw5 + dE/dw6) for h1, instead of from the output deltas weighted by the connections, "
        "delta_o1*w5 + delta_o2*w6. dE/dw5 = delta_o1*h1 already carries h1 and lacks the weight "
        "w5, so the hidden gradients are scaled wrongly and can even change sign; with all weights "
        "zero they are non-zero where the right answer is exactly zero. Back-propagate the deltas, "
        "not the weight gradients.",
        DELTA_RULE,
        NUMPY,
        (Variation(hidden_delta="weight-grads"),),
    ),
    Misconception(
        "hidden-delta-raw-error",
        "Hidden-layer delta from the raw output error",
        "The hidden deltas were built from the output errors (o - y) times the weights, leaving "
        "out the output activation's derivative. The error passes back through each output unit's "
        "activation before it reaches w5..w8, so the hidden delta needs "
        "delta_o = (o - y) * f'(z_o), the same delta the output-layer gradients use.",
        DELTA_RULE,
        NUMPY,
        (Variation(hidden_delta="raw-error"),),
    ),
    Misconception(
        "hidden-delta-wrong-unit-derivative",
        "The hidden unit's derivative used in place of the output unit's",
        "Inside the hidden delta, h*(1 - h) stands where o*(1 - o) belongs. The error from each "
        "output is multiplied first by that output's own slope f'(z_o) = o*(1 - o), then carried "
        "back through the weights, and only then multiplied by the hidden unit's slope h*(1 - h).",
        "delta_h1 = ((o1 - y1)*o1*(1 - o1)*w5 + (o2 - y2)*o2*(1 - o2)*w6) * h1*(1 - h1)",
        NUMPY,
        (Variation(hidden_delta="hidden-slope"),),
    ),
    Misconception(
        "hidden-delta-o1-path-unit-derivative",
        "The hidden unit's derivative used in place of o1's, on o1's path",
        "In the error that reaches each hidden unit, the term coming from o1 is multiplied by the hidden "
        "unit's slope h*(1 - h) where o1's own slope o1*(1 - o1) belongs; the term from o2 is right. The "
        "error from each output passes first through that output's activation: delta_o1 = "
        "(o1 - y1)*o1*(1 - o1) is the factor on o1's path, the same delta the output-layer gradients "
        "dE/dw5 and dE/dw7 use. Build both hidden deltas from delta_o1 and delta_o2.",
        "delta_h1 = ((o1 - y1)*o1*(1 - o1)*w5 + (o2 - y2)*o2*(1 - o2)*w6) * h1*(1 - h1)",
        NUMPY,
        (Variation(hidden_delta="o1-hidden-slope"),),
    ),
    Misconception(
        "missing-output-derivative",
        "Output delta without the activation's derivative",
        "The output delta was taken as (o - y), the derivative of the loss with respect to o, but "
        "the weights act on the pre-activation z_o, so the chain rule needs do/dz_o = f'(z_o) as "
        "well (o*(1 - o) for the sigmoid). Every gradient inherits the mistake: the output-layer "
        "ones directly, the hidden ones through the back-propagated delta.",
        "delta_o1 = (o1 - y1) * o1*(1 - o1), dE/dw5 = delta_o1 * h1, dE/dw7 = delta_o1 * h2",
        NUMPY,
        (Variation(output_delta="raw"),),
    ),
    Misconception(
        "textbook-numbering",
        "Weights numbered the textbook way",
        "The weights were read row by row, h1 = f(w1*x1 + w2*x2), h2 = f(w3*x1 + w4*x2), "
        "o1 = f(w5*h1 + w6*h2), as many textbooks number them. This course numbers them the other "
        "way: w1 and w2 both read x1, w3 and w4 read x2, w5 and w6 read h1. Your network may be "
        "right for its own numbering, but w2, w3, w6 and w7 each play another weight's role, so "
        "the numbers differ. Keep the course's numbering.",
        COURSE_NETWORK,
        BOTH,
        (Variation(numbering="textbook"),),
    ),
    Misconception(
        "no-half-in-loss",
        "Loss without the 1/2",
        "The loss was the plain sum of squares (o1 - y1)^2 + (o2 - y2)^2. The course's loss has a "
        "1/2 in front, which cancels the 2 of the derivative so that dE/do = o - y. Without it the "
        "loss and every gradient are twice as large, and training takes steps twice as long.",
        "E = 1/2 * ((o1 - y1)^2 + (o2 - y2)^2), dE/do = o - y",
        BOTH,
        (
            Variation(loss="MSELoss"),
        ),  # MSELoss on one element per output is exactly the sum of squares
        when={"loss": ("mse",)},
    ),
    Misconception(
        "gradient-ascent",
        "The update adds the gradient",
        "The update was w + lr * dE/dw, which climbs the loss instead of descending it. Gradient descent subtracts the "
        "gradient, for all eight weights at once.",
        "w = w - lr * dE/dw",
        BOTH,
        (Variation(ascent=True),),
    ),
    Misconception(
        "grads-not-zeroed",
        "Gradients not zeroed between updates",
        "PyTorch adds every backward() into w.grad. Without zeroing it after each update "
        "(w.grad.zero_(), w.grad = None or optimizer.zero_grad()), each update uses the sum of all "
        "the gradients so far instead of the current one.",
        "each epoch: loss.backward(); with torch.no_grad(): w -= lr * w.grad; then w.grad.zero_()",
        TORCH,
        (Variation(accumulate=True),),
    ),
    Misconception(
        "sequential-update",
        "Output weights updated before the hidden gradients were computed",
        "w5..w8 were updated first, and the hidden gradients were then computed with the new output "
        "weights: either the new w5..w8 carried this forward pass's output deltas back, or a second "
        "backward pass ran at the partly updated weights. All eight gradients belong to the same point: "
        "compute them from one forward pass at the current weights, then update all eight at once.",
        "g = dE/dw at the current w (all eight), then w = w - lr * g",
        NUMPY,
        (Variation(sequential="carried"), Variation(sequential="recomputed")),
    ),
    Misconception(
        "loss-after-update",
        "Loss recorded after each update",
        "losses[i] was recorded after update i, so the curve is shifted by one epoch: it misses "
        "the starting loss and ends with the loss of the final weights. The contract asks for the "
        "loss before each update; losses[0] is the loss of the initial weights.",
        TRAINING_LOOP,
        BOTH,
        (Variation(loss_after_update=True),),
    ),
    Misconception(
        "epochs-off-by-one",
        "One update too many or too few",
        "The loop made epochs + 1 or epochs - 1 updates (range(epochs + 1), range(1, epochs)). The "
        "function is asked for exactly `epochs` updates, with one loss recorded before each.",
        TRAINING_LOOP,
        BOTH,
        (Variation(extra_epochs=1), Variation(extra_epochs=-1)),
    ),
    Misconception(
        "relu-with-sigmoid-derivative",
        "ReLU forward pass with the sigmoid's derivative",
        "The forward pass uses ReLU, but the backward pass still multiplies by the sigmoid's "
        "derivative a*(1 - a). ReLU's derivative is 1 where z > 0 and 0 where z <= 0, at the "
        "hidden and at the output layer.",
        "f(z) = max(0, z), f'(z) = 1 if z > 0 else 0",
        NUMPY,
        (Variation(slope="sigmoid-form"),),
        when={"act": ("relu",)},
    ),
    Misconception(
        "relu-hidden-only",
        "ReLU in the hidden layer only",
        "The ReLU variant kept the sigmoid at the output layer. The experiment replaces the activation at every layer, "
        "the output layer too: o1 = max(0, w5*h1 + w7*h2).",
        "h = max(0, z_h), o = max(0, z_o), f'(z) = 1 if z > 0 else 0",
        BOTH,
        (Variation(hidden_act="relu", output_act="sigmoid"),),
        when={"act": ("relu",)},
    ),
    Misconception(
        "no-output-activation",
        "No activation at the output layer",
        "The outputs were the weighted sums themselves, o1 = w5*h1 + w7*h2. In this network every layer applies the "
        "activation, o1 = f(w5*h1 + w7*h2), and the output delta carries its derivative f'(z_o).",
        COURSE_NETWORK,
        BOTH,
        (Variation(output_act="identity"),),
    ),
    Misconception(
        "output-layer-fed-inputs",
        "The output layer reads x instead of h",
        "The output layer was computed from the inputs, o1 = f(w5*x1 + w7*x2), skipping the hidden "
        "layer, so w1..w4 have no effect on the outputs. The output layer reads the hidden values: "
        "o1 = f(w5*h1 + w7*h2).",
        COURSE_NETWORK,
        BOTH,
        (Variation(output_reads="x"),),
    ),
    Misconception(
        "softmax-before-cross-entropy",
        "Softmax applied before CrossEntropyLoss",
        "torch.nn.CrossEntropyLoss applies log-softmax itself and expects raw scores. Passing "
        "softmax(o) applies the softmax twice, which flattens the loss and shrinks its gradients. "
        "Give it the outputs stacked as one row of logits.",
        "E = CrossEntropyLoss()(o.reshape(1, 2), y.reshape(1, 2)) = -sum_k y_k * log softmax(o)_k",
        TORCH,
        (Variation(softmax_first=True),),
        when={"loss": ("CrossEntropyLoss",)},
    ),
    Misconception(
        "mseloss-as-half-sse",
        "MSELoss computed as 1/2 * sum of squares",
        "The MSELoss variant was computed like the course's mse, with a 1/2. torch.nn.MSELoss() "
        "takes the mean over its elements and has no 1/2: "
        "MSELoss()(o1, y1) + MSELoss()(o2, y2) = (o1 - y1)^2 + (o2 - y2)^2, so its loss and "
        "gradients are twice the mse ones.",
        "E = MSELoss()(o1, y1) + MSELoss()(o2, y2) = (o1 - y1)^2 + (o2 - y2)^2",
        TORCH,
        (Variation(loss="mse"),),
        when={"loss": ("MSELoss",)},
    ),
    Misconception(
        "rounded-intermediates",
        "Intermediate values rounded",
        "h and o were rounded (to a few decimals, e.g. round(h1, 2)) before being used further. "
        "Rounding is for printing: every later step inherits the rounding error, and the gradients "
        "drift away from the exact ones. Compute in full precision and round only what you print.",
        "h = f(z_h), o = f(z_o) in full floating-point precision",
        NUMPY,
        tuple(Variation(decimals=d) for d in (2, 3, 4)),
    ),
    Misconception(
        "ignores-arguments",
        "The functions ignore their arguments",
        "The results are right for the given case and wrong for other inputs: the functions "
        "compute from values fixed in the file (the given x, y and weights, or w1..w8 defined at "
        "the top) instead of the x, y and w they are called with. Every entry point must compute "
        "from its arguments; the grader calls them with other inputs too.",
        "np_backward(x, y, w) and the others compute from their arguments only",
        BOTH,
        tuple(Variation(given_inputs=names) for names in GIVEN_SUBSETS),
        right_on_given_only=True,
    ),
    Misconception(
        "wrong-learning-rate",
        "Trained with another step size than asked",
        "The weights moved by a step size other than the lr the function was called with, e.g. a "
        "learning rate fixed at the top of the file. The update must use the lr argument.",
        "w = w - lr * dE/dw, with the lr passed in",
        BOTH,
        tuple(Variation(learning_rate=lr) for lr in STEP_SIZES),
    ),
)


def misconception(misconception_id: str) -> Misconception:
    for entry in CATALOG:
        if entry.id == misconception_id:
            return entry
    raise KeyError(misconception_id)
