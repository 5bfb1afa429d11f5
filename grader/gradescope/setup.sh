#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (the
# Dockerfile beside it runs it too).  It makes a Python environment holding the
# pinned requirements of requirements.lock, with the CPU-only build of torch:
# Gradescope has no GPU, and the default torch wheel would pull gigabytes of CUDA.
#
# Every step can be pointed elsewhere, so the script can be tried outside a container:
#   GRADER_VENV      where the environment goes (default /opt/backprop-grader/venv;
#                    run_autograder reads the same variable)
#   GRADER_SOURCE    the folder holding requirements.lock (default: this script's folder)
#   BASE_PYTHON      the interpreter to build it from (default: the first python3.x >= 3.11)
#   TORCH_INDEX_URL  where the CPU-only torch wheel comes from
#                    (default https://download.pytorch.org/whl/cpu; empty: pip's own configuration)
#   GRADER_WHEELS    a folder of wheels to install from, with no index and no network (default:
#                    the folder wheels/ beside this script where there is one: `make image` puts
#                    there what this machine's own pip configuration downloads)
#   SKIP_APT=1       never call apt-get (fail instead when Python or venv is missing)
#   DRY_RUN=1        print the commands that change anything, run none of them
set -euo pipefail

venv="${GRADER_VENV:-/opt/backprop-grader/venv}"
source_dir="${GRADER_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
torch_index="${TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}"
skip_apt="${SKIP_APT:-0}"
dry_run="${DRY_RUN:-0}"
lock="$source_dir/requirements.lock"

run() {
    printf '+'
    printf ' %q' "$@"
    printf '\n'
    if [ "$dry_run" != 1 ]; then
        "$@"
    fi
}

apt_install() {
    if [ "$skip_apt" = 1 ]; then
        echo "setup.sh: $* missing, and SKIP_APT=1 forbids installing it" >&2
        exit 1
    fi
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

new_enough() {  # python >= 3.11: the grader reads its spec with tomllib
    command -v "$1" >/dev/null 2>&1 && "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

find_python() {
    local candidate
    if [ -n "${BASE_PYTHON:-}" ]; then  # an explicit choice is used or refused, never replaced
        new_enough "$BASE_PYTHON" && command -v "$BASE_PYTHON" && return 0
        echo "setup.sh: BASE_PYTHON=$BASE_PYTHON is not a Python 3.11 or newer" >&2
        exit 1
    fi
    for candidate in python3.13 python3.12 python3.11 python3; do
        if new_enough "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if [ ! -f "$lock" ]; then
    echo "setup.sh: no requirements.lock in $source_dir (set GRADER_SOURCE)" >&2
    exit 1
fi

python="$(find_python || true)"
if [ -z "$python" ]; then
    # Ubuntu 22.04 (Gradescope's default image) ships 3.10; 3.11 is a package away
    apt_install python3.11 python3.11-venv
    python="$(find_python || echo python3.11)"
fi
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    # Debian and Ubuntu split venv's pip bootstrap into its own package
    apt_install "$(basename "$python")-venv"
fi

run "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --no-cache-dir --disable-pip-version-check)
torch_pin="$(grep -E '^torch==' "$lock")"
wheels="${GRADER_WHEELS:-}"
if [ -z "$wheels" ] && [ -d "$source_dir/wheels" ]; then
    wheels="$source_dir/wheels"
fi
if [ -n "$wheels" ]; then
    run "${pip[@]}" --no-index --find-links "$wheels" -r "$lock"
elif [ -n "$torch_index" ]; then
    # torch alone from the CPU-only index; its dependencies come pinned from the lock below
    run "${pip[@]}" --no-deps --index-url "$torch_index" "$torch_pin"
    run "${pip[@]}" -r "$lock"  # torch==X is already met by X+cpu
else
    run "${pip[@]}" --no-deps "$torch_pin"
    run "${pip[@]}" -r "$lock"
fi
run chmod -R a+rX "$venv"   # readable by an unprivileged user, should the sandbox drop to one
if [ -f "$source_dir/secret.txt" ]; then
    run chmod 600 "$source_dir/secret.txt"
fi
run "$venv/bin/python" -c 'import numpy, torch; print("torch", torch.__version__, "numpy", numpy.__version__, "cuda", torch.cuda.is_available())'
if [ -d "$source_dir/grader" ] && [ -f "$source_dir/ASSIGNMENT" ]; then
    # The answer key, hidden cases included, computed once here instead of once per submission;
    # readable by root only, read and deleted by the grader before any student code runs.
    key_args=(--out "$source_dir/answer-key")
    if [ -f "$source_dir/secret.txt" ]; then
        key_args+=(--secret-file "$source_dir/secret.txt")
    fi
    (cd "$source_dir" && run env GRADER_ASSIGNMENT="$(head -n 1 "$source_dir/ASSIGNMENT")" "$venv/bin/python" -m grader answer-key "${key_args[@]}")
    run chmod -R go-rwx "$source_dir"  # the grader's files, out of the reach of the sandbox's unprivileged user
fi
