"""A syntax error on line 3: a verdict, not a crash."""

def np_forward(x, w, act="sigmoid")
    return x, w
