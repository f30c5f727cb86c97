"""nameko adapters shared by every service: providers, entrypoints, runner.

Only service processes import this package (they are eventlet-patched); the gateway and
the domain never do.
"""
