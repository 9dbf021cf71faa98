"""duban's benchmark suite: `make bench` (or `python -m bench.run [names…]`) writes docs/benchmarks.md.

Every benchmark is a module (or package) of this package exposing `NAME`, `TITLE`, `INTRO` and
`run(ctx) -> list[Result]`; `bench.run` discovers them, so a new benchmark is a new module.
"""
