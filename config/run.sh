#!/usr/bin/env bash
# `make run`: prepare the embedded set-up, then run web + Celery worker + beat together.
# Ctrl-C (SIGINT) or SIGTERM stops all three; if one of them dies, the others are stopped too.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-8000}"
PY=.venv/bin/python
CELERY=.venv/bin/celery

# Emails (customer notifications, portal sign-in links) are written as files to the development
# outbox unless EMAIL_BACKEND says otherwise (SMTP in production: see README).
export EMAIL_BACKEND="${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}"
export EMAIL_FILE_PATH="${EMAIL_FILE_PATH:-$PWD/var/mail}"
mkdir -p "$EMAIL_FILE_PATH"

manage() { "$PY" manage.py "$@"; }
has_command() { manage help "$1" >/dev/null 2>&1; }

manage migrate --noinput
manage createcachetable
if has_command setup_periodic_tasks; then manage setup_periodic_tasks; fi
if has_command seed_demo; then
    manage seed_demo
else
    echo "(seed_demo is not available yet: no demo data loaded)"
fi

pids=()
stopping=0
stop_all() {
    [ "$stopping" = 1 ] && return
    stopping=1
    echo "Stopping web, worker and beat..."
    local pid
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    # Give the worker time for a warm shutdown, then force.
    for _ in $(seq 1 40); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.5
    done
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            pkill -KILL -P "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    wait 2>/dev/null || true
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

"$PY" manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=("$!")
"$CELERY" -A config worker -l info --concurrency 2 &
pids+=("$!")
"$CELERY" -A config beat -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler &
pids+=("$!")

# Print the banner once the web server answers (or after ~30 s, whichever comes first).
for _ in $(seq 1 60); do
    "$PY" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:${PORT}/healthz', timeout=2)" \
        >/dev/null 2>&1 && break
    sleep 0.5
done
cat <<BANNER

==============================================================
 Merchant console : http://127.0.0.1:${PORT}/admin/
 Health           : http://127.0.0.1:${PORT}/healthz
 Email outbox     : ${EMAIL_FILE_PATH}  (one .log file per sent batch; EMAIL_BACKEND=${EMAIL_BACKEND##*.backends.})
 Demo logins      : admin / admin  (superuser)
                    staff@demo-shop.example / demo  (staff of the demo shop)
                    staff@other-shop.example / demo  (staff of a second shop)
 Ctrl-C stops web, worker and beat.
==============================================================

BANNER
if has_command portal_login_link; then
    echo " Customer portal  : $(SITE_URL="http://127.0.0.1:${PORT}" manage portal_login_link --shop demo-shop.example 2>/dev/null || echo "(no demo customer)")  (sign-in link, 15 min)"
fi

# Any of the three exiting on its own is an error: stop the others.
set +e
wait -n "${pids[@]}"
rc=$?
set -e
echo "A process exited (status $rc); stopping the others." >&2
stop_all
exit $(( rc == 0 ? 1 : rc ))
