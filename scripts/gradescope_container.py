"""Run an autograder zip as Gradescope does, in a real container: ``python scripts/gradescope_container.py``.

    build                       make the base image and the wheelhouse (needs Debian's mirror and PyPI)
    status                      say whether they are there, and why not
    run ZIP SUBMISSION [OUT]    unzip ZIP into /autograder/source, run setup.sh once, then run_autograder on
                                the SUBMISSION folder; print (or write to OUT) the results.json it wrote

The container is what Gradescope gives an autograder: Debian bookworm's Python (``mmdebstrap --variant=
minbase``), run as root by podman (``runc``, ``--cgroup-manager=cgroupfs``, explicit ``--ulimit``s) with
Docker's default capabilities and a seccomp profile that forbids user namespaces as Docker's default does,
so bubblewrap is installed but cannot start and the grader has to use runner uids. It has no network
(``--network none``): setup.sh installs the kit's dependencies from a local wheelhouse (``PIP_NO_INDEX``,
``PIP_FIND_LINKS``), which ``build`` downloads beforehand. tests/test_gradescope_container.py drives it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
PACKAGES = ("python3", "python3-venv", "python3-pip", "bubblewrap", "libseccomp2", "ca-certificates")
PODMAN = ("podman", "--runtime", "runc", "--cgroup-manager=cgroupfs")
# Docker's default capabilities for a container's root (moby's defaults), nothing more
CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP",
                "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE")
ULIMITS = ("nofile=1024:1024", "nproc=4096:4096")
NAMESPACE_FLAGS = {"CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
                   "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
                   "CLONE_NEWNET": 0x40000000}
EPERM, ENOSYS = 1, 38
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "minigrad-kit" / "gradescope"


class ContainerError(RuntimeError):
    """The container could not be built, started or read (one line saying why)."""


def _requirements() -> list[str]:
    from grader.instructor.export.autograder_zip import requirements

    return [*requirements(KIT), "pyseccomp>=0.1.2"]


def key() -> str:
    """Names the base image and wheelhouse: changes when what goes into them does."""
    text = json.dumps([PACKAGES, _requirements(), "bookworm", 1])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def image_name() -> str:
    return f"localhost/minigrad-gradescope-base:{key()}"


def wheelhouse() -> Path:
    return CACHE / f"wheels-{key()}"


def seccomp_profile() -> Path:
    """Like Docker's default for namespaces: no unshare/setns/mount, no clone with a namespace flag, no clone3."""
    rules = [{"names": ["unshare", "setns", "mount", "umount2", "pivot_root"], "action": "SCMP_ACT_ERRNO",
              "errnoRet": EPERM},
             {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS}]
    rules += [{"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": EPERM,
               "args": [{"index": 0, "value": flag, "valueTwo": flag, "op": "SCMP_CMP_MASKED_EQ"}]}
              for flag in NAMESPACE_FLAGS.values()]
    path = CACHE / "seccomp-no-namespaces.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules}, indent=1))
    return path


def _run(command: Sequence[str], *, timeout: float = 1800, check: bool = True, **kwargs: object
         ) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout, **kwargs)
    except FileNotFoundError as err:
        raise ContainerError(f"{command[0]} is not installed ({err.filename}): apt-get install podman runc "
                             "mmdebstrap") from None
    except subprocess.TimeoutExpired:
        raise ContainerError(f"{' '.join(command[:4])} ... took over {timeout:g} s") from None
    if check and done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise ContainerError(f"{' '.join(command[:5])} ... failed ({done.returncode}): {tail}"[:600])
    return done


def status() -> str:
    """"" when the base image and wheelhouse are ready, else why not (one line)."""
    if shutil.which("podman") is None or shutil.which("runc") is None:
        return "podman and runc are not installed (apt-get install podman runc mmdebstrap)"
    done = _run([*PODMAN, "image", "exists", image_name()], check=False, timeout=120)
    if done.returncode != 0:
        return f"no image {image_name()}: run `python scripts/gradescope_container.py build`"
    if not wheelhouse().is_dir() or not any(wheelhouse().glob("numpy-*.whl")):
        return f"no wheelhouse at {wheelhouse()}: run `python scripts/gradescope_container.py build`"
    return ""


def build() -> str:
    """Make the base image (mmdebstrap + podman import) and the wheelhouse (pip download); returns the image."""
    if not status():
        return image_name()
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels = wheelhouse()
    if not any(wheels.glob("numpy-*.whl")):
        wheels.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "pip", "download", "-q", "--dest", str(wheels), "--only-binary=:all:",
              "--python-version", "3.11", "--platform", "manylinux2014_x86_64", "--platform",
              "manylinux_2_28_x86_64", "--implementation", "cp", *_requirements()])
    done = _run([*PODMAN, "image", "exists", image_name()], check=False, timeout=120)
    if done.returncode != 0:
        with tempfile.TemporaryDirectory(prefix="gradescope-rootfs-") as tmp:
            rootfs = Path(tmp) / "rootfs.tar"
            _run(["mmdebstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", "bookworm", str(rootfs)])
            _run([*PODMAN, "import", str(rootfs), image_name()])
    return image_name()


def _container_flags() -> list[str]:
    flags = ["--network", "none", "--security-opt", f"seccomp={seccomp_profile()}", "--cap-drop", "all"]
    for cap in CAPABILITIES:
        flags += ["--cap-add", cap]
    for limit in ULIMITS:
        flags += ["--ulimit", limit]
    return flags


def prepare(zip_path: Path) -> tuple[str, str]:
    """A new image: the base with ``zip_path`` unzipped into /autograder/source and setup.sh run once;
    returns (the image, what setup.sh printed)."""
    problem = status()
    if problem:
        raise ContainerError(problem)
    name = f"minigrad-gradescope-setup-{uuid.uuid4().hex[:8]}"
    image = f"localhost/minigrad-gradescope-autograder:{uuid.uuid4().hex[:12]}"
    script = ("set -e; mkdir -p /autograder/source /autograder/submission /autograder/results; "
              "cd /autograder/source; python3 -m zipfile -e /input/autograder.zip .; "
              "chmod +x setup.sh run_autograder; bash ./setup.sh")
    with tempfile.TemporaryDirectory(prefix="gradescope-zip-") as tmp:
        shutil.copyfile(zip_path, Path(tmp) / "autograder.zip")
        try:
            done = _run([*PODMAN, "run", "--name", name, *_container_flags(), "-v", f"{tmp}:/input:ro",
                         "-v", f"{wheelhouse()}:/wheels:ro", "-e", "PIP_NO_INDEX=1", "-e", "PIP_FIND_LINKS=/wheels",
                         image_name(), "bash", "-c", script], check=False)
            if done.returncode != 0:
                tail = " | ".join(done.stderr.strip().splitlines()[-4:])
                raise ContainerError(f"setup.sh failed in the container ({done.returncode}): {tail}"[:800])
            _run([*PODMAN, "commit", "--quiet", name, image], timeout=600)
        finally:
            _run([*PODMAN, "rm", "--force", name], check=False, timeout=120)
    return image, done.stdout + done.stderr


def remove_image(image: str) -> None:
    _run([*PODMAN, "rmi", "--force", image], check=False, timeout=120)


def run_submission(image: str, submission: Path, before: str = "", after: str = "", extra: Path | None = None,
                   timeout: float = 900) -> tuple[dict | None, subprocess.CompletedProcess[str]]:
    """Grade the ``submission`` folder in a fresh container of ``image`` as Gradescope does.

    ``before`` and ``after`` are shell commands run as root in the container around run_autograder (a
    test's canaries and listeners); ``extra`` is a host folder they may read at /input (read-only).
    Returns (results.json or None, the container's output).
    """
    with tempfile.TemporaryDirectory(prefix="gradescope-run-") as tmp:
        results = Path(tmp) / "results"
        results.mkdir()
        inbox = Path(tmp) / "submission"
        shutil.copytree(submission, inbox)
        script = (f"{before}\ncp /autograder/source/run_autograder /autograder/run_autograder\n"
                  f"/autograder/run_autograder; code=$?\n{after}\nexit $code")
        mounts = ["-v", f"{extra}:/input:ro"] if extra is not None else []
        done = _run([*PODMAN, "run", "--rm", *_container_flags(), "-v", f"{inbox}:/autograder/submission",
                     "-v", f"{results}:/autograder/results", *mounts, image, "bash", "-c", script],
                    check=False, timeout=timeout)
        try:
            payload = json.loads((results / "results.json").read_text())
        except (OSError, ValueError):
            payload = None
    return payload, done


def run_command(image: str, script: str, volumes: Sequence[tuple[Path, str]] = (), timeout: float = 1800
                ) -> subprocess.CompletedProcess[str]:
    """Run a shell script as root in a fresh container of ``image`` (with read-only host folders)."""
    mounts = [arg for host, inside in volumes for arg in ("-v", f"{host}:{inside}:ro")]
    return _run([*PODMAN, "run", "--rm", *_container_flags(), *mounts, image, "bash", "-c", script],
                check=False, timeout=timeout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/gradescope_container.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="make the base image and the wheelhouse")
    commands.add_parser("status", help="say whether the base image and wheelhouse are ready")
    run = commands.add_parser("run", help="grade one submission folder with an autograder zip")
    run.add_argument("zip", type=Path)
    run.add_argument("submission", type=Path)
    run.add_argument("out", type=Path, nargs="?")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(KIT))
    try:
        if args.command == "build":
            print(f"ready: {build()} and {wheelhouse()}")
            return 0
        if args.command == "status":
            problem = status()
            print(problem or f"ready: {image_name()} and {wheelhouse()}")
            return 1 if problem else 0
        image, setup = prepare(args.zip)
        sys.stderr.write(setup[-2000:])
        try:
            payload, done = run_submission(image, args.submission)
        finally:
            remove_image(image)
        sys.stderr.write(done.stderr[-4000:])
        if payload is None:
            print("gradescope_container: run_autograder wrote no results.json", file=sys.stderr)
            return 1
        text = json.dumps(payload, indent=2) + "\n"
        if args.out:
            args.out.write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    except ContainerError as err:
        print(f"gradescope_container: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
