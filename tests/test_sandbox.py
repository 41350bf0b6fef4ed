"""The runner's sandbox and limits, checked from inside a runner, in every tier this machine can run.

Each test starts a runner on the probe submission (tests/runner_probe.py) in a tier — bubblewrap, a uid
of its own (root without user namespaces; with seccomp where a libseccomp binding is installed), or
rlimits only — and asks it what it can see and do: who it runs as, its rlimits, how many processes it may
start, how large a file it may write, whether it reaches the network or the judge's files, and what is
left when it is killed. A tier this machine cannot run is skipped with the reason; tests/
test_gradescope_container.py runs this file inside a Gradescope-like container, where the uid tier is the
one that runs. The tier decision itself is in test_sandbox_tiers.py, the wire's defences in test_wire.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from runner_probe import Runners, call, processes_of, tiers_here

from grader.jail import bwrap, identity
from grader.jail.proxy import RunnerCrashed, RunnerOutOfMemory, RunnerTimeout, StudentError

KIT = Path(__file__).resolve().parent.parent
IS_ROOT = os.geteuid() == 0
HERE = tiers_here()
UID_TIER = next((t for t in HERE if t.startswith("uid")), "uid")


def tier_param(tier: str) -> object:
    reason = HERE.get(tier, HERE.get("uid", "") if tier.startswith("uid") else "not available here")
    if tier not in HERE and not reason:
        reason = f"runners get {UID_TIER} here, not {tier}"
    return pytest.param(tier, marks=pytest.mark.skipif(bool(reason), reason=reason), id=tier)


EVERY = [tier_param("bwrap"), tier_param(UID_TIER), tier_param("rlimits-only")]
CONFINED = [tier_param("bwrap"), tier_param(UID_TIER)]  # a uid of their own (as root), a process cap


@pytest.fixture
def runners(request, tmp_path):
    runners = Runners(tmp_path, request.param)
    yield runners
    runners.close()


def tiers(params):
    return pytest.mark.parametrize("runners", params, indirect=True)


# ----- who the runner is, and its limits -----

@tiers(CONFINED)
def test_a_confined_runner_has_every_limit_no_privileges_and_its_own_uid(runners):
    proxy = runners.start({"cpu_seconds": 77, "processes": 33, "open_files": 99, "file_size": 5 << 20,
                           "address_space": 1 << 30})
    info = json.loads(call(proxy, "identity"))
    assert info["limits"] == {"RLIMIT_AS": [1 << 30, 1 << 30], "RLIMIT_CPU": [77, 79],
                              "RLIMIT_FSIZE": [5 << 20, 5 << 20], "RLIMIT_NPROC": [33, 33],
                              "RLIMIT_NOFILE": [99, 99]}
    assert info["sigxfsz"] == int(signal.SIG_IGN)
    assert info["oom_score_adj"] == 1000  # the out-of-memory killer takes runners first
    assert "NoNewPrivs:\t1" in info["status"]
    assert {line.split(":")[0]: int(line.split()[1], 16) for line in info["status"] if line.startswith("Cap")
            and not line.startswith("CapBnd")} == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapAmb": 0}
    if runners.tier == "bwrap":
        assert info["pids"] == [1, 2]  # a PID namespace of its own: bwrap's init and the runner
    if runners.tier == "uid+seccomp":
        assert "Seccomp:\t2" in info["status"]  # a filter is loaded
    if IS_ROOT:
        uid = info["uid"][0]
        assert info["uid"] == [uid] * 3 and info["gid"] == [uid] * 3 and info["groups"] == []
        assert uid in identity.block(os.getpid()) and proxy.uids == [uid]
        assert info["cwd"] == str(proxy.scratch)


@tiers(CONFINED)
def test_two_runners_of_a_root_judge_get_different_uids(runners):
    if not IS_ROOT:
        pytest.skip("only a root judge switches uids")
    first, second = runners.start(), runners.start()
    assert json.loads(call(first, "identity"))["uid"] != json.loads(call(second, "identity"))["uid"]


@tiers(CONFINED)
def test_the_process_limit_holds(runners):
    proxy = runners.start({"processes": 16})
    forked, errno = call(proxy, "fork_until_refused", 200)
    assert errno == 11 and forked < 16  # EAGAIN: the runner itself (and bwrap's init) count too
    assert call(proxy, "identity")  # and the runner goes on


@tiers(EVERY)
def test_a_write_past_the_file_size_limit_fails_and_the_runner_goes_on(runners):
    proxy = runners.start({"file_size": 4 << 20})
    written, errno = call(proxy, "write_file", "big.bin", 20)
    assert (written, errno) == (4 << 20, 27)  # EFBIG, not SIGXFSZ
    assert call(proxy, "identity")


@tiers(EVERY)
def test_a_flood_of_output_is_cut_at_the_file_size_limit(runners):
    proxy = runners.start({"file_size": 2 << 20})
    start = time.monotonic()
    assert call(proxy, "flood", 100) == "flooded"
    assert time.monotonic() - start < 30
    assert os.path.getsize(proxy.scratch / "runner-output.log") == 2 << 20
    assert call(proxy, "identity")  # the runner goes on answering


@tiers(EVERY)
def test_running_out_of_address_space_is_a_memory_error(runners):
    proxy = runners.start({"address_space": 1 << 30})
    with pytest.raises(StudentError) as err:
        call(proxy, "allocate", 2048)
    assert err.value.out_of_memory
    assert call(proxy, "allocate", 16) == 16 << 20


@tiers(EVERY)
@pytest.mark.parametrize("ignore_xcpu", [False, True], ids=["sigxcpu", "sigkill_at_the_hard_limit"])
def test_the_cpu_limit_stops_a_spinning_runner_as_a_timeout(runners, ignore_xcpu):
    proxy = runners.start({"cpu_seconds": 1})
    with pytest.raises(RunnerTimeout, match="CPU time"):
        call(proxy, "spin", ignore_xcpu, timeout=30)


@tiers(EVERY)
@pytest.mark.parametrize(("how", "error", "words"), [
    ("exit", RunnerCrashed, "exited with status 3"),
    ("SIGSEGV", RunnerCrashed, "SIGSEGV"),
    ("SIGKILL", RunnerOutOfMemory, "out of memory"),
])
def test_how_a_runner_died_is_reported(runners, how, error, words):
    proxy = runners.start()
    with pytest.raises(error, match=words) as err:
        call(proxy, "die", how)
    if error is RunnerCrashed:
        assert not isinstance(err.value, RunnerOutOfMemory)
    assert call(proxy, "identity")  # the next call gets a fresh runner


@tiers(EVERY)
def test_a_runner_that_does_not_answer_is_killed_at_the_deadline(runners):
    proxy = runners.start()
    start = time.monotonic()
    with pytest.raises(RunnerTimeout, match="no answer within"):
        call(proxy, "spin", True, timeout=1.0)
    assert time.monotonic() - start < 5
    assert not proxy.alive


# ----- what a confined runner leaves, reaches and sees -----

@tiers(CONFINED)
def test_nothing_a_confined_runner_started_outlives_it(runners):
    proxy = runners.start()
    assert call(proxy, "leave_a_sleeper", 60) == "left"  # a new session, double-forked: not its process group
    uids = set(proxy.uids)
    marker = str(proxy.staging)
    assert processes_of(uids, marker)  # the runner and its sleeper are there
    proxy.close()
    deadline = time.monotonic() + 10
    while processes_of(uids, marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_of(uids, marker) == []


@tiers([tier_param("bwrap"), tier_param("uid+seccomp")])
def test_a_confined_runner_has_no_network(runners):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        errno = call(runners.start(), "connect", listener.getsockname()[1])
        assert errno != 0
        with pytest.raises(socket.timeout):
            listener.accept()


@tiers(CONFINED)
def test_a_confined_runner_can_neither_read_nor_write_the_kit_or_the_judges_files(runners, tmp_path):
    if runners.tier != "bwrap" and not IS_ROOT:
        pytest.skip("the uid tier needs a root judge")
    canary = tmp_path / "canary.txt"
    canary.write_text("host")
    proxy = runners.start()
    judge_root = proxy.staging.parent
    paths = [str(KIT), str(KIT / "solutions" / "relu.py"), str(KIT / "grader" / "suites" / "hidden"),
             str(canary), "/", "/tmp", str(proxy.staging), str(proxy.scratch), "/root", str(judge_root)]
    seen = json.loads(call(proxy, "look", paths))
    for secret in (str(KIT / "solutions" / "relu.py"), str(KIT / "grader" / "suites" / "hidden"), str(canary)):
        assert seen[secret][1:] == [False, False], (secret, seen[secret])  # neither readable nor writable
    assert seen[str(proxy.staging)][1:] == [True, False]  # its own submission: readable, not writable
    assert seen[str(proxy.scratch)][1:] == [True, True]
    assert seen["/"][2] is False and seen[str(judge_root)][2] is False
    if runners.tier != "bwrap":
        assert seen[str(judge_root)][1] is False  # the judge's folder is 0711: reachable by name, not listable
    else:
        assert seen[str(KIT / "solutions" / "relu.py")][0] is False  # it does not even exist in there
        numpy_dir = str(Path(np.__file__).resolve().parent)
        assert seen[str(KIT)] == [False, False, False] or numpy_dir.startswith(str(KIT) + "/")


@tiers([tier_param("bwrap")])
def test_a_sandboxed_runners_tmp_is_small(runners):
    written, errno = call(runners.start({"file_size": 16 << 20}), "fill_tmp", 200)
    assert errno == 28 and written <= bwrap.TMPFS_BYTES >> 20  # ENOSPC


@tiers([tier_param(UID_TIER)])
def test_what_a_uid_runner_leaves_in_the_shared_tmp_is_removed_with_it(runners):
    proxy = runners.start({"file_size": 16 << 20})
    prefix = f"/tmp/left-by-runner-{os.getpid()}-"
    assert call(proxy, "fill_tmp", 16, prefix) == [16, 0]
    left = [f"{prefix}0", f"{prefix}1"]
    assert all(os.path.exists(p) and os.stat(p).st_uid == proxy.uids[0] for p in left)
    proxy.close()
    assert not any(os.path.exists(p) for p in left)


@tiers([tier_param("rlimits-only")])
def test_without_a_sandbox_the_runner_still_has_its_limits(runners):
    proxy = runners.start({"cpu_seconds": 55, "processes": 44, "open_files": 66, "file_size": 3 << 20})
    info = json.loads(call(proxy, "identity"))
    assert not proxy.sandboxed and proxy.uids == []
    assert info["limits"]["RLIMIT_CPU"] == [55, 57] and info["limits"]["RLIMIT_NPROC"] == [44, 44]
    assert info["limits"]["RLIMIT_NOFILE"] == [66, 66] and info["limits"]["RLIMIT_FSIZE"] == [3 << 20, 3 << 20]
    assert info["uid"][0] == os.getuid()  # the judge's user: for root, RLIMIT_NPROC is not enforced
    assert call(proxy, "write_file", "big.bin", 5) == [3 << 20, 27]
