"""duban's fault suite: `make faults` (or `python -m faults.run [names…]`) breaks the running system on
purpose — workers killed mid-batch, two beats, PostgreSQL, Redis and SMTP taken away, a fuzzer and hostile
documents at the API — on private servers, and writes what it found to docs/faults.md.
"""
