"""The Gradescope autograder in a real container, as Gradescope runs it: root, no user namespaces.

scripts/gradescope_container.py gives the container: Debian's Python, podman with runc, Docker's default
capabilities and a seccomp profile that forbids user namespaces, no network. The autograder zip is
unzipped into /autograder/source, setup.sh runs once, and every submission gets a fresh container where
run_autograder writes /autograder/results/results.json. Bubblewrap is installed but cannot start, so
the runners get the uid tier. One test runs it all (the image takes half a minute to set up); each
part adds what it found to a list, so one failure does not hide another:

- setup.sh reports the uid+seccomp tier; the reference scores 100 and the stubs 0;
- every hostile submission gains nothing in what it attacks, leaks no line of reference code or hidden
  test into results.json, and leaves the kit, the canaries, /autograder/results and the shared /tmp as
  they were, with no process left behind;
- a submission that loops forever is stopped at the configured total time with every test reported;
- ``grader grade`` as root in the container refuses submissions other users can read, then grades them
  all with no student reading another's files or the gradebook;
- tests/test_sandbox.py, test_sandbox_tiers.py, test_kernel_service.py and the uid tier of
  test_hostile.py's confinement attacks pass inside the container, where that tier is the one that runs.

Where the container cannot start the test says why: it fails in CI (``$CI`` set) and skips elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from attacks import ATTACKS, materialize
from kit_copies import reference_submission, stub_copy
from leaks import leaked

from grader.instructor.export.autograder_zip import build
from grader.vocabulary.exercises import EXERCISES, WEIGHTS
from grader.vocabulary.options import JudgeOptions

pytestmark = pytest.mark.slow

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT / "scripts"))
import gradescope_container as container  # noqa: E402

SOURCE = "/autograder/source"
PLACES = {"@KIT@": f"{SOURCE}/kit", "@OTHER@": f"{SOURCE}/other", "@CANARY_DIR@": "/autograder/canary",
          "@HOST_TMP_CANARY@": "/tmp/host-canary", "@KIT_CANARY@": f"{SOURCE}/kit/.canary", "@TMP@": "/tmp",
          "@RESULTS@": "/autograder/results", "@PORT@": "47011", "@CANARY_NAME@": "hostile_canary"}
# the attacks graded through run_autograder, in Gradescope's layout: what tries to read the kit or another
# submission, write the results, reach the network or outlive its runner (every attack of tests/hostile also
# runs in the uid tier inside the container, through test_hostile.py: check_the_runner_tests_inside)
CONTAINED = ["read_kit_files", "echo_reference_code", "write_outside", "fake_gradebook", "network",
             "outlive_runner", "fork_bomb"]
# root's canaries, a copy of the reference as another submission, a listener for the network attack
BEFORE = f"""
mkdir -p /autograder/canary {SOURCE}/other
cp -r /input/. {SOURCE}/other/
head -c 32 /dev/urandom | base64 > /tmp/host-canary; chmod 600 /tmp/host-canary
head -c 32 /dev/urandom | base64 > {SOURCE}/kit/.canary
python3 -c '
import socket, threading
s = socket.socket(); s.bind(("127.0.0.1", 47011)); s.listen(8)
while True:
    c, _ = s.accept(); open("/autograder/connections", "a").write("connection\\n"); c.close()
' >/dev/null 2>&1 &
sleep 0.3
snapshot() {{
  ( sha256sum /tmp/host-canary {SOURCE}/kit/.canary {SOURCE}/other/*.py;
    find {SOURCE} /autograder/canary -newer /tmp/host-canary -type f ! -path '*/__pycache__/*' ) 2>&1 | sort
}}
snapshot > /autograder/before.txt
"""
AFTER = """
snapshot > /autograder/after.txt
echo "CANARIES-CHANGED: $(diff /autograder/before.txt /autograder/after.txt | grep -c '^[<>]')"
echo "CONNECTIONS: $(cat /autograder/connections 2>/dev/null | wc -l)"
echo "RUNNER-PROCESSES: $(awk '/^Uid:/ && $2 >= 1610612736 {n++} END {print n+0}' /proc/[0-9]*/status 2>/dev/null)"
echo "RUNNER-FILES: $(find /tmp /var/tmp /dev/shm -uid +1610612735 2>/dev/null | wc -l)"
echo "RESULTS-FILES: $(ls /autograder/results)"
"""


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    problem = container.status()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"the Gradescope container cannot run here: {problem}")
        pytest.skip(problem)
    zip_path = tmp_path_factory.mktemp("export") / "autograder.zip"
    build(zip_path, "hidden", JudgeOptions(test_timeout=5.0, total_timeout=150.0))
    image, setup = container.prepare(zip_path)
    yield image, setup, tmp_path_factory.mktemp("runs")
    container.remove_image(image)


def _run(image: str, submission: Path, before: str = "", after: str = "", extra: Path | None = None
         ) -> tuple[dict | None, str]:
    payload, done = container.run_submission(image, submission, before=before, after=after, extra=extra)
    return payload, done.stdout + done.stderr


def _points(payload: dict, exercises: tuple[str, ...]) -> float:
    titled = {e: t for e, t in (("relu", "ReLU"), ("conv", "Convolution"), ("pooling", "Pooling"),
                                ("softmax_ce", "Softmax"), ("residual", "Residual"))}
    return sum(t["score"] for t in payload["tests"] if any(t["name"].startswith(titled[e]) for e in exercises))


def check_setup_and_the_two_ends(image: str, setup: str, root: Path) -> list[str]:
    problems = []
    if "sandbox: uid+seccomp" not in setup or "bubblewrap cannot start" not in setup:
        problems.append(f"setup.sh did not report the uid+seccomp tier: {setup[-600:]}")
    good, log = _run(image, reference_submission(root / "good"))
    if good is None or good["score"] != pytest.approx(100) or good["extra_data"]["sandbox"] != "uid+seccomp":
        problems.append(f"the reference scored {good and good['score']}: {log[-800:]}")
    stubs, log = _run(image, stub_copy(root / "stubs"))
    if stubs is None or stubs["score"] != 0 or len(stubs["tests"]) != len(good["tests"] if good else []):
        problems.append(f"the stubs scored {stubs and stubs['score']}: {log[-800:]}")
    return problems


def check_an_attack(image: str, name: str, root: Path) -> list[str]:
    attack = ATTACKS[name]
    submission = materialize(attack, root / name, PLACES)
    other = reference_submission(root / f"{name}-other")  # another student's work, kept in the kit's folder
    wait = "sleep 8\n" if "outlived" in attack.extra else ""  # its child meant to write 6 s after the first call
    payload, log = _run(image, submission, before=BEFORE, after=wait + AFTER, extra=other)
    if payload is None:
        return [f"{name}: no results.json: {log[-800:]}"]
    problems = []
    attacked = attack.exercises
    untouched = [e for e in EXERCISES if e not in attacked]
    full = sum(WEIGHTS[e] for e in attacked)
    if attack.signature != "passed" and _points(payload, attacked) >= (full if attack.attacked else 1e-9):
        problems.append(f"{name}: {_points(payload, attacked)} points on what it attacks")
    if _points(payload, tuple(untouched)) != pytest.approx(sum(WEIGHTS[e] for e in untouched)):
        problems.append(f"{name}: the exercises it leaves alone scored {_points(payload, tuple(untouched))}")
    outputs = [payload.get("output", "")] + [t.get("output", "") for t in payload["tests"]]
    if leaked(outputs):
        problems.append(f"{name}: results.json shows reference code: {leaked(outputs)[:2]}")
    found = dict(re.findall(r"^([A-Z-]+): ?(.*)$", log, re.MULTILINE))
    expected = {"CANARIES-CHANGED": "0", "CONNECTIONS": "0", "RUNNER-PROCESSES": "0", "RUNNER-FILES": "0",
                "RESULTS-FILES": "results.json"}
    for key, value in expected.items():
        if found.get(key) != value:
            problems.append(f"{name}: {key} {found.get(key)!r}, expected {value!r}")
    return problems


def check_a_loop_forever(image: str, root: Path) -> list[str]:
    before = f"sed -i 's/\"total_timeout\": 150.0/\"total_timeout\": 20.0/' {SOURCE}/kit/autograder.json"
    payload, log = _run(image, materialize(ATTACKS["loop_in_call"], root / "loop", PLACES), before=before)
    if payload is None:
        return [f"loop forever: no results.json: {log[-800:]}"]
    problems = []
    statuses = {t["output"].split("]")[0] + "]" for t in payload["tests"]}
    if payload["extra_data"]["status"] != "timeout" or "grading stopped after 20 s" not in payload["output"]:
        problems.append(f"loop forever: {payload['extra_data']}")
    if len(payload["tests"]) < 100 or "[timeout]" not in statuses:
        problems.append(f"loop forever: {len(payload['tests'])} tests reported, statuses {sorted(statuses)[:5]}")
    return problems


def check_batch_grading(image: str, root: Path) -> list[str]:
    subs = root / "batch"
    reference_submission(subs / "alice")
    stub_copy(subs / "bob")
    batch_places = {**PLACES, "@OTHER@": "/subs/alice", "@RESULTS@": "/out/results", "@TMP@": "/out"}
    materialize(ATTACKS["echo_reference_code"], subs / "mallory", batch_places)
    materialize(ATTACKS["write_outside"], subs / "eve", batch_places)
    grade = (f"cd {SOURCE}/kit && PYTHONPATH=. GRADER_REFERENCE_DATA={SOURCE}/kit/grader/suites/expected "
             "/opt/minigrad-grader/bin/python -m grader grade /subs/alice /subs/bob /subs/mallory /subs/eve "
             "--out /out --test-timeout 5")
    script = (f"cp -r /input /subs; sha256sum /subs/alice/*.py > /alice.sum\n"
              f"{grade} 2>&1 | tail -3; echo \"FIRST-EXIT: ${{PIPESTATUS[0]}}\"\n"
              f"chmod -R o-rwx /subs; {grade} >/grade.log 2>&1; echo \"SECOND-EXIT: $?\"\n"
              "sha256sum -c /alice.sum >/dev/null && echo ALICE-UNCHANGED\n"
              "echo GRADES; cat /out/grades.csv; echo SHOWN; cat /out/results/*.json /out/feedback/*.md")
    done = container.run_command(image, script, [(subs, "/input")], timeout=900)
    out = done.stdout
    problems = []
    if "FIRST-EXIT: 2" not in out or "the runners' uids could read /subs/" not in out:
        problems.append(f"batch: grading world-readable submissions was not refused: {out[:600]}")
    if "SECOND-EXIT: 0" not in out or "ALICE-UNCHANGED" not in out:
        problems.append(f"batch: the second run failed or alice's files changed: {out[:1500]}")
    rows = [row.split(",") for row in out.split("GRADES\n", 1)[-1].split("SHOWN")[0].split()]
    totals = {row[0]: row[-3] for row in rows[1:] if len(row) == len(EXERCISES) + 4}  # ..., total, max_total, status
    attacked = {row[0]: row[1:1 + len(EXERCISES)] for row in rows[1:]}
    if totals.get("alice") != "100" or totals.get("bob") != "0" or set(totals) != {"alice", "bob", "mallory", "eve"}:
        problems.append(f"batch: totals {totals}")
    if any(points != "0" for points in attacked.get("mallory", ["?"])) or attacked.get("eve", ["?"])[0] != "0":
        problems.append(f"batch: the attackers scored {attacked.get('mallory')}, {attacked.get('eve')}")
    if leaked([out.split("SHOWN", 1)[-1]]):
        problems.append(f"batch: results or feedback show reference code: {leaked([out])[:2]}")
    return problems


def check_the_runner_tests_inside(image: str, root: Path) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=KIT,
                            capture_output=True, check=True).stdout.split(b"\0")
    with tarfile.open(root / "kit.tar", "w") as archive:
        for name in filter(None, listed):
            path = KIT / name.decode()
            if path.is_file():
                archive.add(path, arcname=name.decode())
    files = "tests/test_sandbox.py tests/test_sandbox_tiers.py tests/test_kernel_service.py tests/test_hostile.py"
    # of the attacks, those whose outcome depends on confinement (the rest test the judge, as on the host)
    confined = {name for name, attack in ATTACKS.items() if attack.sandbox_only or attack.extra}
    confined |= {"fork_bomb", "fake_gradebook", "forge_results_file"}
    select = f"not rlimits and (not test_an_attack or {' or '.join(sorted(confined))})"
    script = ("set -e; mkdir -m 700 /opt/kit; tar -xf /input/kit.tar -C /opt/kit; chmod -R go-rwx /opt/kit; "
              "cd /opt/kit; PYTHONPATH=/opt/kit /opt/minigrad-grader/bin/python -m pytest -q -p no:cacheprovider "
              f"-k '{select}' {files} 2>&1 | tail -15")
    done = container.run_command(image, script, [(root, "/input")], timeout=1200)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    passed = int(re.search(r"(\d+) passed", summary).group(1)) if "passed" in summary else 0
    if "failed" in summary or "error" in summary or passed < 40:
        return [f"the runner tests inside the container: {done.stdout[-2500:]}"]
    return []


@pytest.mark.timeout(3000)
def test_gradescope_in_a_container(autograder):
    image, setup, root = autograder
    problems = check_setup_and_the_two_ends(image, setup, root)
    for name in CONTAINED:
        problems += check_an_attack(image, name, root)
    problems += check_a_loop_forever(image, root)
    problems += check_batch_grading(image, root)
    problems += check_the_runner_tests_inside(image, root)
    assert problems == [], "\n".join(problems)


def test_the_container_has_what_gradescope_has():
    """The flags themselves: Docker's capabilities, a profile that refuses user namespaces, explicit ulimits."""
    profile = json.loads(container.seccomp_profile().read_text())
    denied = {name for rule in profile["syscalls"] for name in rule["names"]}
    assert {"unshare", "setns", "clone", "clone3", "mount"} <= denied
    flags = container._container_flags()
    assert "--network" in flags and flags[flags.index("--network") + 1] == "none"
    assert flags.count("--cap-add") == len(container.CAPABILITIES) and "SYS_ADMIN" not in flags
    at = flags.index("nproc=4096:4096")
    assert flags[at - 1] == "--ulimit" and "nofile=1024:1024" in flags
