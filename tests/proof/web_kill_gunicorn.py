"""gunicorn config for the web-server-kill test: with WEB_KILL_HOLD_DIR set, each worker's
WEB_KILL_HOLD_AFTER-th request that writes an outbox event stops just before that INSERT (its
change is written, its event not yet: the worst moment to die), says so with a file in that
folder, and waits there to be killed."""

import os
import time
from pathlib import Path


def post_worker_init(worker):
    folder = os.environ.get("WEB_KILL_HOLD_DIR")
    if not folder:
        return
    from django.db import connection

    hold_after = int(os.environ.get("WEB_KILL_HOLD_AFTER", "1"))
    seen = 0

    def hold(execute, sql, params, many, context):
        nonlocal seen
        if sql.lstrip().upper().startswith('INSERT INTO "WEBHOOKS_OUTBOXEVENT"'):
            seen += 1
            if seen == hold_after:
                (Path(folder) / f"held-{os.getpid()}").write_text("")
                time.sleep(300)  # until the test kills us
        return execute(sql, params, many, context)

    # Sync workers serve one request at a time on this thread's connection, so the wrapper sees
    # every statement the worker runs.
    connection.execute_wrappers.append(hold)
