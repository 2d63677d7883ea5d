"""moto_server as the harness runs it: moto's own server (moto.server.main, the same arguments),
with three changes.

- werkzeug's access log is off (warnings and errors still go to stderr). The harness keeps only
  the end of stderr, to explain a failed start; a line per request cost about a third of the
  server's time in the suite.
- moto's list of its own service packages is read once. moto 5 lists its package folder (a
  listdir and an isdir per entry) to route every request; the folder does not change while the
  server runs.
- Requests are handled one at a time (werkzeug still accepts them on threads). moto's backends check
  that a name is free and then store it with no lock of their own, so two simultaneous creates of
  one RDS instance could both pass the check, or the loser could get an error RDS never gives
  (DBSnapshotAlreadyExists for a DB instance create). RDS refuses the second create of a name, and
  the product relies on that (restore-test: the same schedule delivered twice at once); with one
  request at a time moto answers as RDS does. A handler that waited on another request to this
  server would deadlock here; none of the services the harness uses (RDS, S3, KMS, CloudWatch,
  SNS, Secrets Manager) does: the whole suite and the drill run with the lock.

Run with the Python that runs moto_server (harness/toolchain.ts scriptInterpreter); harness/moto.ts
falls back to moto_server itself when that is unknown or this file cannot patch what it expects.
"""

import functools
import logging
import sys
import threading

logging.getLogger("werkzeug").setLevel(logging.WARNING)

import moto.backends  # noqa: E402
from moto import server  # noqa: E402
from moto.moto_server import werkzeug_app  # noqa: E402

_list_of_moto_modules = getattr(moto.backends, "list_of_moto_modules", None)
if callable(_list_of_moto_modules):
    _modules = functools.lru_cache(maxsize=1)(lambda: tuple(_list_of_moto_modules()))
    moto.backends.list_of_moto_modules = _modules

_dispatcher = getattr(werkzeug_app, "DomainDispatcherApplication", None)
if _dispatcher is not None:
    _one_at_a_time = threading.Lock()
    _dispatch = _dispatcher.__call__

    def _serialized(self, environ, start_response):
        with _one_at_a_time:
            return _dispatch(self, environ, start_response)

    _dispatcher.__call__ = _serialized

if __name__ == "__main__":
    sys.exit(server.main())
