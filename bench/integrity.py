"""Shared wrong answers on a class built to hold them, and on 2,000 generated result records.

The class is the course's linear-layer homework (tests/fixtures/assignments/linmse, kept
outside the repository as a course keeps it): its examples, plus generated hand-ins of
students who each write the layer their own way (matrix products, loops, einsum, helper
functions, outer products):

- independent students who make the same catalogued mistake (the gradients of the sum);
- independent students who make the same uncatalogued mistake (db the mean over the batch,
  not the sum) in different code;
- pairs who copied an uncatalogued mistake only they make (a weight-decay term nobody asked
  for, a constant of their own), the copy with renamed variables and reordered lines;
- one hand-in submitted twice under two ids.

`grade` grades it with hidden cases; the leads must list every copied pair first (and the
resubmission as identical) and no independent student as copied.  Then the comparison alone
runs on 2,000 generated records (hand-ins of 8 checks by 4 cases, a fifth of them wrong in
a common way, a tenth in pairs).  `python bench/integrity.py` prints both timings and writes
them into bench/results.json ("integrity"); tests/test_documented_commands.py runs it at a
tiny size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.course import integrity  # noqa: E402

COURSE = REPO / "tests" / "fixtures" / "assignments" / "linmse"
RESULTS = REPO / "bench" / "results.json"
SECRET = "the-integrity-benchmark's-secret"

# How each student writes Part A.  {scale}: what multiplies (P - Y) in G; {reduce}: "sum" or
# "mean" for db; {decay}: a term added to dW and db (0 for none).  The lines marked `#1` and
# `#2` do not depend on each other: a copy moves the later one above the other.
WRITERS = {
    "matmul": """
def np_linear_grad(X, W, b, Y):
    n, k = Y.shape
    R = X @ W + b - Y
    loss = np.mean(R ** 2)
    G = {scale} * R
    dW = X.T @ G + {decay} * W  #1
    db = G.{reduce}(axis=0) + {decay} * b  #2
    return loss, dW, db
""",
    "loops": """
def np_linear_grad(X, W, b, Y):
    n, d = X.shape
    k = W.shape[1]
    P = np.zeros((n, k))
    for s in range(n):
        for j in range(k):
            P[s, j] = sum(X[s, i] * W[i, j] for i in range(d)) + b[j]
    total = 0.0
    for s in range(n):
        for j in range(k):
            total += (P[s, j] - Y[s, j]) ** 2
    loss = total / (n * k)
    G = {scale} * (P - Y)
    dW = np.zeros_like(W)  #1
    for i in range(d):
        for j in range(k):
            dW[i, j] = sum(X[s, i] * G[s, j] for s in range(n)) + {decay} * W[i, j]
    db = np.array([G[:, j].{reduce}() + {decay} * b[j] for j in range(k)])  #2
    return loss, dW, db
""",
    "einsum": """
def np_linear_grad(X, W, b, Y):
    n, k = Y.shape
    P = np.einsum("nd,dk->nk", X, W) + b
    diff = P - Y
    loss = (diff * diff).sum() / diff.size
    G = {scale} * diff
    grad_b = np.{reduce}(G, axis=0) + {decay} * b  #2
    grad_W = np.einsum("nd,nk->dk", X, G) + {decay} * W  #1
    return loss, grad_W, grad_b
""",
    "helpers": """
def forward(X, W, b):
    return np.dot(X, W) + b


def upstream(P, Y):
    n, k = Y.shape
    return {scale} * (P - Y)


def np_linear_grad(X, W, b, Y):
    n, k = Y.shape
    P = forward(X, W, b)
    loss = float(np.square(P - Y).mean())
    G = upstream(P, Y)
    weight_grad = np.dot(np.transpose(X), G) + {decay} * W  #1
    bias_grad = getattr(G, "{reduce}")(0) + {decay} * b  #2
    return loss, weight_grad, bias_grad
""",
    "outer": """
def np_linear_grad(X, W, b, Y):
    n, k = Y.shape
    errors = X @ W + b - Y
    loss = np.sum(errors ** 2) / (n * k)
    G = {scale} * errors
    dW = sum(np.outer(X[s], G[s]) for s in range(n)) + {decay} * W  #1
    db = sum(G[s] for s in range(n)) / ({mean_rows}) + {decay} * b  #2
    return loss, dW, db
""",
}
TORCH = (
    """
def torch_linear_grad(X, W, b, Y):
    W = W.clone().requires_grad_(True)
    b = b.clone().requires_grad_(True)
    loss = ((X @ W + b - Y) ** 2).mean()
    loss.backward()
    return loss.detach(), W.grad, b.grad
""",
    """
def torch_linear_grad(X, W, b, Y):
    weights = W.detach().requires_grad_()
    bias = b.detach().requires_grad_()
    error = torch.nn.functional.mse_loss(X @ weights + bias, Y)
    error.backward()
    return error.item(), weights.grad, bias.grad
""",
    """
def torch_linear_grad(X, W, b, Y):
    params = [W.clone().detach(), b.clone().detach()]
    for p in params:
        p.requires_grad = True
    out = torch.addmm(params[1], X, params[0])
    total = torch.sum((out - Y) ** 2) / Y.numel()
    total.backward()
    return total.detach(), params[0].grad, params[1].grad
""",
)
MEAN = "2.0 / (n * k)"
SUM = "2.0"  # the gradients of the sum: a catalogued mistake
RENAMES = {"G": "upstream_grad", "R": "residual", "dW": "dweights", "db": "dbias", "P": "pred"}


def hand_in(writer: str, torch_style: int, scale: str, reduce: str, decay: float) -> str:
    body = WRITERS[writer].format(
        scale=scale, reduce=reduce, decay=repr(decay), mean_rows="n" if reduce == "mean" else "1"
    )
    return f"import numpy as np\nimport torch\n{body}\n{TORCH[torch_style]}"


def plain(code: str) -> str:
    """A hand-in as its student wrote it: the markers of the lines a copy swaps taken out."""
    return re.sub(r"  #[12]$", "", code, flags=re.MULTILINE)


def copied(code: str) -> str:
    """A copy made to hide: its names changed, two independent lines swapped, comments gone."""
    lines = code.splitlines()
    first = next(i for i, line in enumerate(lines) if line.endswith("#1"))
    second = next(i for i, line in enumerate(lines) if line.endswith("#2"))
    early, late = sorted((first, second))
    lines.insert(early, lines.pop(late))  # the later of the two lines moved above the other
    text = "\n".join(re.sub(r"\s*#[12]$", "", line) for line in lines) + "\n"
    for old, new in RENAMES.items():
        text = re.sub(rf"\b{old}\b", new, text)
    return text


def write_class(folder: Path, pairs: int, independent: int, catalogued: int) -> dict[str, set]:
    """The generated hand-ins in `folder`, and which of them are copies of which."""
    folder.mkdir(parents=True, exist_ok=True)
    writers = list(WRITERS)
    truth: dict[str, set] = {"copied": set(), "independent": set(), "identical": set()}
    for i in range(independent):  # db the batch mean: uncatalogued, made on their own
        code = hand_in(writers[i % len(writers)], i % len(TORCH), MEAN, "mean", 0.0)
        (folder / f"independent_mean_db_{i:02d}.py").write_text(plain(code))
        truth["independent"].add(f"independent_mean_db_{i:02d}")
    for i in range(catalogued):
        code = hand_in(writers[(i + 2) % len(writers)], (i + 1) % len(TORCH), SUM, "sum", 0.0)
        (folder / f"independent_sum_gradients_{i:02d}.py").write_text(plain(code))
        truth["independent"].add(f"independent_sum_gradients_{i:02d}")
    for p in range(pairs):
        writer = writers[p % len(writers)]
        original = hand_in(writer, p % len(TORCH), MEAN, "sum", round(0.01 * (p + 1), 4))
        a, b = f"pair_{p:02d}_original", f"pair_{p:02d}_copy"
        (folder / f"{a}.py").write_text(plain(original))
        (folder / f"{b}.py").write_text(copied(original))
        truth["copied"].add(frozenset((a, b)))
    twice = plain(hand_in("einsum", 1, MEAN, "sum", 0.5))
    for name in ("resubmitted_first_id", "resubmitted_second_id"):
        (folder / f"{name}.py").write_text(twice)
    truth["identical"].add(frozenset(("resubmitted_first_id", "resubmitted_second_id")))
    return truth


def grade_class(folder: Path, out: Path, course_home: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "GRADER_SECRET"}
    environment.update(GRADER_ASSIGNMENTS=str(course_home), GRADER_SECRET=SECRET, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(folder), "--assignment", "linmse"]
        + ["--out", str(out)],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=3600,
    )


def judged(leads: integrity.Leads, truth: dict[str, set]) -> dict:
    """Are the copies first, and is no independent student among the leads said to be copied?"""
    listed = [frozenset((lead.a, lead.b)) for lead in leads.leads]
    copies = truth["copied"] | truth["identical"]
    first = listed[: len(copies)]
    said_copied = {frozenset((lead.a, lead.b)) for lead in leads.leads if lead.similar_code}
    accused = {s for pair in said_copied for s in pair} & truth["independent"]
    return {
        "copied_pairs": len(copies),
        "copied_pairs_listed_first": set(first) == copies,
        "independent_listed_as_copied": sorted(accused),
        "identical_said": all(
            lead.identical_code
            for lead in leads.leads
            if frozenset((lead.a, lead.b)) in truth["identical"]
        ),
    }


def generated_records(count: int, seed: int = 7) -> list[integrity.HandIn]:
    """`count` hand-ins of 8 checks by 4 cases: most right, a fifth wrong in one of three common
    ways, a tenth in pairs that share a wrong answer of their own."""
    rng = random.Random(seed)
    common = [tuple(rng.random() for _ in range(6)) for _ in range(3)]
    records = []
    for i in range(count):
        answers = []
        for check in range(8):
            for case in range(4):
                if i % 5 == 0 and check < 3:
                    values = common[(i // 5) % 3]
                elif i % 10 in (1, 2) and check in (4, 5):
                    pair = i // 10
                    values = tuple(random.Random(pair * 100 + check).random() for _ in range(6))
                else:
                    continue
                answers.append(
                    integrity.WrongAnswer(f"check-{check}", f"case-{case}", case > 0, values)
                )
        records.append(integrity.HandIn(f"student-{i:04d}", None, tuple(answers)))
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--independent", type=int, default=12)
    parser.add_argument("--catalogued", type=int, default=6)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--no-examples", action="store_true", help="the generated hand-ins only")
    parser.add_argument(
        "--out", default=str(RESULTS), help="where to store the figures ('': nowhere)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        course = scratch / "course"
        shutil.copytree(COURSE, course / COURSE.name, ignore=shutil.ignore_patterns("__pycache__"))
        folder = scratch / "class"
        folder.mkdir()
        for example in () if args.no_examples else (COURSE / "examples").glob("*.py"):
            (folder / example.name).write_text(example.read_text())
        truth = write_class(folder, args.pairs, args.independent, args.catalogued)
        out = scratch / "out"
        started = time.perf_counter()
        graded = grade_class(folder, out, course)
        grading_seconds = time.perf_counter() - started
        if graded.returncode != 0:
            print(graded.stdout[-3000:], graded.stderr[-3000:], file=sys.stderr)
            return 1
        started = time.perf_counter()
        leads = integrity.find_leads(integrity.read_class(out))
        class_seconds = time.perf_counter() - started
        verdict = judged(leads, truth)
    records = generated_records(args.records)
    started = time.perf_counter()
    generated = integrity.find_leads(records, code=lambda student: None)
    records_seconds = time.perf_counter() - started
    figures = {
        "class_hand_ins": leads.hand_ins,
        "class_leads": [
            f"{lead.a} ~ {lead.b}: {'identical' if lead.identical_code else f'{lead.similarity:.0%}'}"
            f" code, {len(lead.shared)} answers"
            for lead in leads.leads
        ],
        "class_seconds": round(class_seconds, 3),
        "class_grading_seconds": round(grading_seconds, 1),
        **verdict,
        "records": args.records,
        "records_leads": len(generated.leads),
        "records_seconds": round(records_seconds, 3),
    }
    print(json.dumps(figures, indent=2))
    if args.out:
        results = Path(args.out)
        stored = json.loads(results.read_text()) if results.is_file() else {}
        stored["integrity"] = figures
        results.write_text(json.dumps(stored, indent=2) + "\n")
    ok = verdict["copied_pairs_listed_first"] and not verdict["independent_listed_as_copied"]
    return 0 if ok and verdict["identical_said"] else 1


if __name__ == "__main__":
    sys.exit(main())
