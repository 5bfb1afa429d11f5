"""The autograder image, built and run by a real container engine (Docker).

The image is built the way Gradescope builds one: from the unpacked autograder.zip,
running its setup.sh on a base image.  The base is `gradescope/autograder-base` where
this engine already has it (it is never pulled from here), else a Debian image made on
this machine (debootstrap, then `docker import`).  The wheels are downloaded on this
machine with its own pip configuration (its index, find-links, certificate, proxy), into
the build context, so that the build itself needs no network: it works behind a proxy
or from an offline mirror, and the build runs with the network off.

A run is one fresh container per submission at Gradescope's default limits, with the
network off, a read-only root, a bounded /tmp and the student's files mounted read-only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.gradescope import bundle

GRADESCOPE_BASE = "gradescope/autograder-base:latest"
LOCAL_BASE = "backprop-grader-base:bookworm"
DEBIAN_SUITE = "bookworm"  # Python 3.11, as setup.sh wants at least
DEBIAN_PACKAGES = (
    "python3",
    "python3-venv",
    "ca-certificates",
    "libseccomp2",
)  # setup.sh's Python; the seccomp layer's library
DOCKERFILE = "grader/gradescope/Dockerfile"  # inside the unpacked zip
GRADESCOPE_LIMITS = (
    "--memory=768m",
    "--memory-swap=768m",
    "--cpus=0.5",
)  # Gradescope's defaults for an autograder
TMP_SIZE = "512m"  # the container's /tmp (scratch folders), in memory and bounded
BUILD_SECONDS = 1800
RUN_SECONDS = 900


class ImageError(Exception):
    """A step that failed, and why: the build stops there, and no image is tagged."""

    def __init__(self, step: str, reason: str):
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


def engine_problem() -> str | None:
    """Why no container can be built or run here, or None when the engine answers."""
    if shutil.which("docker") is None:
        return "no docker command (install Debian's docker.io and start dockerd)"
    try:
        completed = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        return "the Docker engine did not answer within 30 s"
    if completed.returncode != 0 or not completed.stdout.strip():
        return f"the Docker engine does not answer ({_last_line(completed.stderr) or 'no reason given'}); start dockerd"
    return None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def has_image(tag: str) -> bool:
    return (
        subprocess.run(
            ["docker", "image", "inspect", tag], capture_output=True, timeout=60
        ).returncode
        == 0
    )


def base_image(environ: dict | None = None, log=print) -> str:
    """$GRADER_BASE_IMAGE (which this engine must have), else Gradescope's base where the engine
    has it, else the local Debian base, made now if it is missing."""
    environ = os.environ if environ is None else environ
    chosen = environ.get("GRADER_BASE_IMAGE")
    if chosen:
        if not has_image(chosen):
            raise ImageError(
                "base image",
                f"{chosen} (GRADER_BASE_IMAGE) is not in this engine; load or pull it first",
            )
        return chosen
    if has_image(GRADESCOPE_BASE):
        return GRADESCOPE_BASE
    if not has_image(LOCAL_BASE):
        make_debian_base(
            LOCAL_BASE, environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian"), log
        )
    return LOCAL_BASE


def make_debian_base(tag: str, mirror: str, log=print) -> None:
    if shutil.which("debootstrap") is None:
        raise ImageError(
            "base image",
            f"neither {GRADESCOPE_BASE} nor {tag} is in this engine, "
            "and there is no debootstrap to make one (apt-get install debootstrap)",
        )
    if os.geteuid() != 0:
        raise ImageError("base image", f"making {tag} with debootstrap needs root")
    log(f"making the base image {tag}: debootstrap {DEBIAN_SUITE} from {mirror}")
    with tempfile.TemporaryDirectory(prefix="grader-base-") as folder:
        root = Path(folder) / "root"
        command = [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(DEBIAN_PACKAGES)}",
            DEBIAN_SUITE,
            str(root),
            mirror,
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_SECONDS)
        if completed.returncode != 0:
            raise ImageError(
                "base image (debootstrap)",
                _last_line(completed.stdout + completed.stderr)
                or f"exit status {completed.returncode}",
            )
        packing = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["docker", "import", "-", tag],
            stdin=packing.stdout,
            capture_output=True,
            text=True,
            timeout=BUILD_SECONDS,
        )
        packing.stdout.close()
        packing.wait()
        if imported.returncode != 0 or packing.returncode != 0:
            raise ImageError(
                "base image (docker import)", _last_line(imported.stderr) or "tar failed"
            )


def download_wheels(
    lock: Path, folder: Path, python: str = sys.executable, log=print, environ: dict | None = None
) -> None:
    """Every pinned requirement as a wheel, fetched with this machine's pip configuration
    (`pip config list`, and $PIP_* in `environ`), for this interpreter's version and platform."""
    log(f"downloading the wheels of {lock.name} with this machine's pip configuration")
    command = [
        python,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--only-binary=:all:",
        "--dest",
        str(folder),
        "-r",
        str(lock),
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=BUILD_SECONDS, env=environ
    )
    if completed.returncode != 0:
        reason = [line for line in completed.stderr.splitlines() if line.startswith("ERROR")] or [
            _last_line(completed.stderr)
        ]
        raise ImageError("downloading the wheels (pip download)", " ".join(reason))


def build_context(
    folder: Path, spec, secret_file: Path | None = None, wheels: Path | None = None, log=print
) -> Path:
    """The unpacked autograder.zip (what Gradescope extracts into /autograder/source), with its wheels."""
    archive = folder / "autograder.zip"
    bundle.build_autograder_zip(archive, secret_file=secret_file, spec=spec)
    context = folder / "context"
    with zipfile.ZipFile(archive) as unpacking:
        unpacking.extractall(context)
    if wheels is None:
        download_wheels(context / "requirements.lock", context / "wheels", log=log)
    else:
        shutil.copytree(wheels, context / "wheels")
    return context


_STEP = re.compile(r"^Step (\d+/\d+) : (.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _layers_made(output: list[str]) -> list[str]:
    """The images this build's steps made (not those it took from the cache, nor the base), newest first."""
    made, step, cached = [], "", False
    for line in output:
        line = line.strip()
        match = _STEP.match(line)
        if match:
            step, cached = match.group(2), False
        elif line == "---> Using cache":
            cached = True
        elif (
            line.startswith("---> ")
            and re.fullmatch(r"[0-9a-f]{12,64}", line[5:])
            and not cached
            and not step.startswith("FROM")
        ):
            made.append(line[5:])
    return made[::-1]


def build_image(context: Path, tag: str, base: str, log=print) -> None:
    """`docker build` with the network off; a failure names the step and the reason, and leaves
    neither the tag nor intermediate containers behind."""
    log(f"building {tag} on {base}")
    command = [
        "docker",
        "build",
        "--network=none",
        "--rm",
        "--force-rm",
        "--build-arg",
        f"BASE_IMAGE={base}",
        "-f",
        str(context / DOCKERFILE),
        "-t",
        tag,
        str(context),
    ]
    environment = {
        **os.environ,
        "DOCKER_BUILDKIT": "0",
    }  # the classic builder: every engine has it, and it names its steps
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=BUILD_SECONDS, env=environment
    )
    if completed.returncode == 0:
        return
    output = _ANSI.sub(
        "", completed.stdout + "\n" + completed.stderr
    ).splitlines()  # the builder colours what a step wrote to stderr
    made = _layers_made(output)
    if made:  # the steps before the failing one, untagged: nothing of a half-built image stays in the engine
        subprocess.run(["docker", "rmi", *made], capture_output=True, timeout=BUILD_SECONDS)
    steps = [match for match in map(_STEP.match, output) if match]
    step = (
        f"step {steps[-1].group(1)} ({' '.join(steps[-1].group(2).split())[:80]})"
        if steps
        else "docker build"
    )
    errors = [line.strip() for line in output if re.match(r"\s*(ERROR|error|setup\.sh:|E: )", line)]
    raise ImageError(
        step,
        " / ".join(errors[-3:])
        or _last_line(completed.stderr)
        or f"exit status {completed.returncode}",
    )


@dataclass(frozen=True)
class EngineRun:
    returncode: int
    stdout: str  # run_autograder's output: what Gradescope shows course staff
    stderr: str
    seconds: float


def run_options(submission: Path, results: Path) -> list[str]:
    """One submission's container: Gradescope's limits, no network, a read-only root with a bounded
    /tmp, the student's files read-only, the results folder the only writable mount."""
    return [
        "--rm", "--network=none", *GRADESCOPE_LIMITS, "--pids-limit=512", "--read-only",
        f"--tmpfs=/tmp:rw,size={TMP_SIZE},mode=1777",
        "-v", f"{submission.resolve()}:/autograder/submission:ro", "-v", f"{results.resolve()}:/autograder/results",
    ]  # fmt: skip


def run_submission(
    tag: str,
    submission: Path,
    results: Path,
    *,
    command: tuple[str, ...] = (),
    options: tuple[str, ...] = (),
    read_only_results: bool = False,
) -> EngineRun:
    """`tag`'s command (or `command`) in one fresh container of `run_options`, with `options` added."""
    arguments = run_options(submission, results)
    if read_only_results:
        arguments[-1] += ":ro"
    started = time.monotonic()
    completed = subprocess.run(
        ["docker", "run", *arguments, *options, tag, *command],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
    )
    return EngineRun(
        completed.returncode, completed.stdout, completed.stderr, time.monotonic() - started
    )
