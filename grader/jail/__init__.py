"""What the judge does to start and talk to a runner: ``staging`` (the read-only copy a runner sees),
``sandbox`` (which tier confines it: ``bwrap``, ``identity`` + ``seccomp``, or rlimits only), ``processes``
(groups, kills, orphans), ``proxy`` (the judge's handle on a runner and its ``errors``) and
``kernel_service`` (the trusted process serving reference kernels to a residual runner)."""
