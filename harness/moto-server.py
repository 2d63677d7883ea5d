"""moto_server as the harness runs it: moto's own server (moto.server.main, the same arguments),
with two changes that alter no answer it gives.

- werkzeug's access log is off (warnings and errors still go to stderr). The harness keeps only
  the end of stderr, to explain a failed start; a line per request cost about a third of the
  server's time in the suite.
- moto's list of its own service packages is read once. moto 5 lists its package folder (a
  listdir and an isdir per entry) to route every request; the folder does not change while the
  server runs.

Run with the Python that runs moto_server (harness/toolchain.ts scriptInterpreter); harness/moto.ts
falls back to moto_server itself when that is unknown or this file cannot patch what it expects.
"""

import functools
import logging
import sys

logging.getLogger("werkzeug").setLevel(logging.WARNING)

import moto.backends  # noqa: E402
from moto import server  # noqa: E402

_list_of_moto_modules = getattr(moto.backends, "list_of_moto_modules", None)
if callable(_list_of_moto_modules):
    _modules = functools.lru_cache(maxsize=1)(lambda: tuple(_list_of_moto_modules()))
    moto.backends.list_of_moto_modules = _modules

if __name__ == "__main__":
    sys.exit(server.main())
