"""The trusted side of grading: pytest suites, the proxy to the runner, and how results are collected."""
