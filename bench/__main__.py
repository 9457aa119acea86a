"""`python -m bench [SCENARIO ...]`: see bench/runner.py."""

from bench.runner import main

main()
