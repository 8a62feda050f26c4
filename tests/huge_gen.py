#!/usr/bin/env python3
"""huge_gen.py CASE N -- writes a huge or extreme .nn program to stdout, for
tests/huge.sh (issue 10: nnc must end every one of them with a clear
message or a file that compiles, in bounded time and memory)."""
import sys

case, n = sys.argv[1], int(sys.argv[2])
tail = "compile { loss = mse }\n"


def model(body, tail=tail):
    return "model huge {\n    input x[4]\n" + body + "}\n" + tail


if case == "chain":          # n statements, each on the one before
    body = "    h0 = x\n" + "".join(f"    h{i} = tanh(h{i - 1}) * x\n" for i in range(1, n + 1))
    out = model(body + "    dense(1)\n")
elif case == "sum":          # one expression of n terms
    out = model("    y = " + " + ".join(["x"] * n) + "\n    dense(1)\n")
elif case == "mixed":        # n terms, each a different function of x
    fns = ["tanh", "sigmoid", "relu", "abs", "exp", "softplus"]
    out = model("    y = " + " - ".join(f"{fns[i % 6]}(x * {i + 1})" for i in range(n)) + "\n    dense(1)\n")
elif case == "neg":          # n unary minus signs
    out = model("    y = " + "-" * n + "x\n    dense(1)\n")
elif case == "parens":       # n nested parentheses
    out = model("    y = " + "(" * n + "x" + ")" * n + "\n    dense(1)\n")
elif case == "calls":        # n nested calls
    out = model("    y = " + "tanh(" * n + "x" + ")" * n + "\n    dense(1)\n")
elif case == "layers":       # n dense layers
    out = model("".join("    dense(8, relu)\n" for _ in range(n)) + "    dense(1)\n")
elif case == "wide":         # dense(n) twice: the kernel has n*n elements
    out = model(f"    dense({n}, relu)\n    dense({n}, relu)\n    dense(1)\n")
elif case == "input":        # an input of n x n elements
    out = f"model huge {{\n    input x[{n}, {n}]\n    flatten()\n    dense(1)\n}}\n" + tail
elif case == "outer":        # a broadcast of [n,1] and [1,n]
    out = model(f"    y = zeros({n}, 1) + zeros(1, {n})\n    z = sum(y) * x\n    dense(1)\n")
elif case == "rank8":        # eight dims whose product overflows 64 bits
    out = model(f"    param w[{','.join([str(n)] * 8)}]\n    dense(1)\n")
elif case == "name":         # an identifier of n bytes
    name = "v" * n
    out = model(f"    {name} = relu(x)\n    dense(1)({name})\n")
elif case.startswith("literal:"):  # a literal in every place a number goes
    v = case[8:]
    out = ("model huge {\n    input x[4]\n"
           f"    param p[4] = constant({v})\n"
           f"    param q[4] = random_normal(stddev = {v})\n"
           f"    y = x * {v} + p + q + fill({v}, 4)\n"
           "    dense(1)\n}\n"
           f"compile {{ loss = mse\n optimizer = adam(learning_rate = {v}, epsilon = {v}) }}\n")
else:
    sys.exit("huge_gen.py: unknown case " + case)
sys.stdout.write(out)
