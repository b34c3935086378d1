"""SecantusDB stopped right after it starts, as fixtures and `make run` do on an early failure or Ctrl-C.

Its main thread waits on an Event without a timeout; a SIGTERM to the process lands on any of its threads,
and when not on the main one the handler never runs: the stop waited its whole timeout and then SIGKILLed
(about 1 stop in 4, measured). ManagedProcess.terminate sends it to the main thread instead."""

from __future__ import annotations

import time

from mignet_runtime.localstack import start_secantus

ROUNDS = 12
#: A stop takes about 0.1 s with no client (2.1 s after one: SecantusDB waits for its accept thread).
BOUND = 5.0


def test_secantus_stops_on_sigterm_right_after_it_starts(tmp_path):
    took = []
    for n in range(ROUNDS):
        proc, _ = start_secantus(tmp_path / f"mongo-{n}", log_path=tmp_path / f"mongo-{n}.log")
        stopping = time.monotonic()
        proc.terminate()
        rc = proc.wait(BOUND)
        took.append(time.monotonic() - stopping)
        if rc is None:
            proc.kill()
        # Stopped by itself: 0, or 1 when the signal lands while it still starts (its handler's stop() raises
        # then; seen once in about 200 stops on a loaded machine). What matters here: no wait, no SIGKILL.
        assert rc in (0, 1), f"round {n}: SecantusDB ignored SIGTERM for {BOUND}s (exit {rc}); stops so far: {took}"
    print("stops (s):", " ".join(f"{t:.2f}" for t in took))
