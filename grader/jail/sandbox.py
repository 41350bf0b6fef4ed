"""How runners are confined: the strongest tier this machine allows, decided once per grading run.

=============  ===============================================  ==============================================
tier           where                                            what confines each runner
=============  ===============================================  ==============================================
bwrap          bubblewrap starts (a Linux host, a VM, a         its own mount, PID, network and IPC namespaces
               container that allows user namespaces)           (:mod:`grader.jail.bwrap`), plus what follows
uid+seccomp    root without user namespaces: Gradescope,        a uid and gid of its own, no groups, no new
               ``docker run``, most Kubernetes pods             privileges; the judge's files closed to it by
                                                                owner and mode; network denied by seccomp
uid            the same without a libseccomp binding            the same, but the network is open
rlimits-only   not root and no bubblewrap (macOS, a laptop),    resource limits only: it runs as you and can
               or asked for explicitly                          read your files and use the network
=============  ===============================================  ==============================================

Every tier also has the runner's rlimits, a scrubbed environment, ``python -I -S``, the judge-owned
output log and the wire's checks. The host (``grader grade``, ``grader check``, the Gradescope run)
calls :func:`decide` once and hands the tier to its judges in ``$GRADER_SANDBOX``; ``grader grade``
refuses ``rlimits-only`` as root unless it is asked for (``--sandbox rlimits-only``).
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.jail import bwrap, identity, seccomp
from grader.vocabulary.options import SANDBOX_CHOICES, SANDBOX_TIERS

TIERS, CHOICES = SANDBOX_TIERS, SANDBOX_CHOICES  # strongest first; what a user may ask for
ENV = "GRADER_SANDBOX"  # a choice for the host, the decided tier for a judge
LEGACY_ENV = "GRADER_NO_SANDBOX"  # "1" asks for rlimits-only, as before tiers existed

WHAT = {
    "bwrap": "each runner in bubblewrap: no network, none of your files, its own process namespace",
    "uid+seccomp": "each runner under a uid of its own (no root, no groups, no new privileges), the judge's "
                   "files closed to it, the network denied by seccomp",
    "uid": "each runner under a uid of its own (no root, no groups, no new privileges), the judge's files "
           "closed to it; the network is NOT denied",
    "rlimits-only": "runners run as you with resource limits only: they can read and write your files and use "
                    "the network",
}


class SandboxUnavailable(RuntimeError):
    """The tier asked for cannot run here; the message says why, in one line."""


@dataclass(frozen=True)
class Decision:
    """The tier runners get, and why no stronger one (each reason a short phrase)."""

    tier: str
    reasons: tuple[str, ...] = ()
    readable: tuple[str, ...] = ()  # uid tiers: files of the judge's that a runner's uid could read

    @property
    def uses_uid(self) -> bool:
        return self.tier in ("uid+seccomp", "uid")

    def line(self) -> str:
        """What the grader prints: the tier, what it means, and why not a stronger one."""
        why = f" ({'; '.join(self.reasons)})" if self.reasons else ""
        return f"sandbox: {self.tier}: {WHAT[self.tier]}{why}"

    def exposure(self) -> str:
        """One line naming what a runner could read, or "" when nothing of the judge's is readable."""
        if not self.readable:
            return ""
        more = f" (and {len(self.readable) - 1} more)" if len(self.readable) > 1 else ""
        return (f"the runners' uids could read {self.readable[0]}{more}: make it unreadable to other users "
                f"(chmod -R o-rwx on its folder), or grade where bubblewrap works")


def rank(tier: str) -> int:
    """0 for the strongest tier; unknown or empty labels (a grade from before tiers) rank weakest."""
    return TIERS.index(tier) if tier in TIERS else len(TIERS)


def requested(choice: str = "auto") -> str:
    """``choice``, or when it is "auto" what the environment asks for ($GRADER_SANDBOX, $GRADER_NO_SANDBOX)."""
    if choice == "auto":
        if os.environ.get(LEGACY_ENV) == "1":
            return "rlimits-only"
        env = os.environ.get(ENV, "auto")
        choice = "uid" if env in ("uid+seccomp", "uid") else env
    if choice not in CHOICES:
        raise SandboxUnavailable(f"sandbox {choice!r}: choose one of {', '.join(CHOICES)}")
    return choice


def kit_secrets() -> list[Path]:
    """What a runner must never read: the grader (suites, recorded values, the judge) and the reference code."""
    import grader

    found = [Path(grader.__file__).resolve().parent]
    for package in ("solutions", "reference_kernels"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            found.append(Path(next(iter(spec.submodule_search_locations))).resolve())
    return found


def decide(choice: str = "auto", *, grading: bool = True, paths: Sequence[str | Path] = ()) -> Decision:
    """The tier for this run's runners; SandboxUnavailable when an explicit ``choice`` cannot be met.

    ``grading`` (``grade``, Gradescope) considers the uid tiers as root; a student's ``check`` of their own
    code uses bubblewrap or rlimits only. ``paths`` are more files of the judge's (submissions, the
    gradebook) that a uid tier must keep from the runners, besides :func:`kit_secrets`.
    """
    choice = requested(choice)
    if choice == "rlimits-only":
        return Decision("rlimits-only", ("asked for",))
    reasons: list[str] = []
    if choice in ("auto", "bwrap"):
        if bwrap.available():
            return Decision("bwrap")
        reasons.append(bwrap.why_unavailable())
        if choice == "bwrap":
            raise SandboxUnavailable(f"sandbox bwrap: {reasons[-1]}; install it (apt-get install bubblewrap) "
                                     "where user namespaces are allowed")
    if choice == "uid" or (grading and identity.is_root()):
        found = _uid_tier(tuple(str(p) for p in (*kit_secrets(), *paths)))
        if isinstance(found, Decision):
            return Decision(found.tier, (*reasons, *found.reasons), found.readable)
        if choice == "uid":
            raise SandboxUnavailable(f"sandbox uid: {found}")
        reasons.append(found)
    elif not identity.is_root():
        reasons.append("not root, so runners cannot get uids of their own")
    return Decision("rlimits-only", tuple(reasons))


@functools.lru_cache(maxsize=8)
def _uid_tier(paths: tuple[str, ...]) -> Decision | str:
    """The uid tier's Decision, or why it cannot run here (as root only)."""
    if not identity.is_root():
        return "runners get uids of their own only under a root judge"
    program = seccomp.network_filter()
    report = identity.probe(paths, program)
    if not report.ok:
        return report.problem
    if program is None:
        return Decision("uid", (f"no libseccomp binding, so the network is open: {seccomp.INSTALL_HINT}",),
                        tuple(report.readable))
    if report.seccomp != "ok":
        return Decision("uid", (f"the network filter does not work here: {report.seccomp}",), tuple(report.readable))
    return Decision("uid+seccomp", (), tuple(report.readable))


def for_judge() -> str:
    """The tier a judge runs its runners in: the host's decision in $GRADER_SANDBOX, else its own."""
    given = os.environ.get(ENV, "")
    if given in TIERS:
        return given
    return decide(given or "auto").tier
