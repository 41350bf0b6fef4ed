"""Exports of the grader for other platforms: ``grader export gradescope`` (an autograder zip) and
``grader export github-classroom`` (a workflow and autograding.json). The LMS CSV is ``grader.reports.canvas``."""

from __future__ import annotations

import argparse
import sys

from grader.vocabulary.commands import Misuse
from grader.vocabulary.options import JudgeOptions


class ExportError(Exception):
    """The export could not be built, or it failed its check (one line)."""


def command(args: argparse.Namespace, options: JudgeOptions | None) -> int:
    """``grader export gradescope`` (the autograder zip, which grades with ``options``) or ``grader export
    github-classroom``."""
    if args.target is None:
        raise Misuse("choose a target: gradescope or github-classroom")
    gradescope = args.target == "gradescope"
    if args.out.is_dir() if gradescope else args.out.is_file():
        raise Misuse(f"--out {args.out} is a {'directory; name the zip file' if args.out.is_dir() else 'file'}")
    try:
        if gradescope:
            from grader.instructor.export.autograder_zip import build

            built = build(args.out, args.suite, options, residual_kernels=args.residual_kernels)
        else:
            from grader.instructor.export.github_classroom import export

            files, points = export(args.out)
    except ExportError as err:
        print(f"grader export: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        raise Misuse(f"cannot write {'' if gradescope else 'under '}--out {args.out}: {err.strerror or err}") from None
    if gradescope:
        for warning in built.warnings:
            print(f"grader export: warning: {warning}", file=sys.stderr)
        print(f"wrote {args.out}: setup.sh, run_autograder and the kit ({len(built.names) - 2} files; "
              f"{built.calls} expected values recorded, no solutions/), --suite {args.suite}; checked: the "
              "reference scores full marks and the stubs 0 from it. Upload it as the Gradescope autograder")
    else:
        shares = ", ".join(f"{name} {value:g}" for name, value in points.items())
        print(f"wrote {', '.join(map(str, files))}: one test per exercise ({shares}; {sum(points.values()):g} points)")
    return 0
