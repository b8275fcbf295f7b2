# lib.sh - what deploy/up, deploy/down and tests/run share: the Debian package lists,
# installing the missing ones, and starting, finding and stopping the local services
# (Redis, the mail catcher, the daemons) by their pid files under var/run/.
#
# Sourced, not run; the caller has `set -euo pipefail`. A service is "ours" only while
# /proc/PID/cmdline is exactly the command line this file builds for it, so a stale pid
# file whose pid now belongs to another program is never signalled.
# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this

SCHALT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SCHALT_PROG="$(basename "$(dirname "$0")")/$(basename "$0")"   # "deploy/up", for messages
SCHALT_VAR="$SCHALT_ROOT/var"
SCHALT_BIN="$SCHALT_ROOT/build/bin"
SCHALT_CFG="$SCHALT_VAR/schaltstelle.cfg"
SCHALT_TOKEN_KEYS="$SCHALT_VAR/token.keys"   # made by deploy/up
SCHALT_REDIS_CONF="$SCHALT_ROOT/deploy/redis.conf"

# Debian's Python, never one earlier on PATH (pyenv) that lacks Debian's modules.
SCHALT_PYTHON=/usr/bin/python3

# Packages to build and run (deploy/up, tests/run), and those only the tests need.
SCHALT_PACKAGES_RUN=(build-essential cmake pkg-config libczmq-dev libzmq3-dev libhiredis-dev
    libesmtp-dev libjansson-dev libical-dev libsodium-dev libmicrohttpd-dev redis-server python3
    python3-aiosmtpd tzdata)
SCHALT_PACKAGES_TEST=(json-schema-test-suite clang-format valgrind python3-zmq
    python3-jsonschema python3-icalendar python3-html5lib redis-tools clang libclang-rt-14-dev
    chromium chromium-driver python3-selenium)

# The daemons in start order; deploy/down stops them in reverse. A message flows
# scheduler -> registry -> notifier, so receivers start first.
SCHALT_DAEMONS=(notifier registry scheduler web)

# Where the services listen. Redis's port is read from redis.conf, its one source.
SCHALT_REDIS_PORT=$(awk '$1 == "port" { print $2 }' "$SCHALT_REDIS_CONF")
SCHALT_SMTP_PORT=2525

SCHALT_APT_UPDATED=0

# ---------------------------------------------------------------------------
# Messages

# Print a progress line on stdout.
schalt_say () {
    printf '%s: %s\n' "$SCHALT_PROG" "$*"
}

# Print a warning on stderr.
schalt_warn () {
    printf '%s: warning: %s\n' "$SCHALT_PROG" "$*" >&2
}

# Print an error on stderr and exit 1.
schalt_die () {
    printf '%s: error: %s\n' "$SCHALT_PROG" "$*" >&2
    exit 1
}

# Print the last lines of var/log/NAME.log on stderr, indented.
schalt_log_tail () {
    local log="$SCHALT_VAR/log/$1.log"
    if [ -s "$log" ]; then
        printf '%s: last lines of %s:\n' "$SCHALT_PROG" "${log#"$SCHALT_ROOT"/}" >&2
        tail -n 20 "$log" | sed 's/^/    /' >&2
    else
        printf '%s: %s is empty\n' "$SCHALT_PROG" "${log#"$SCHALT_ROOT"/}" >&2
    fi
}

# ---------------------------------------------------------------------------
# Debian packages

# Print each of the given packages that is not installed, one a line.
schalt_missing_packages () {
    local pkg status
    for pkg in "$@"; do
        # shellcheck disable=SC2016  # ${Status} is dpkg-query's field, not ours
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        if [[ $status != *"ok installed" ]]; then
            printf '%s\n' "$pkg"
        fi
    done
}

# Install those of the given packages that are missing; returns 0 if all are there
# afterwards. A non-root user gets sudo for apt-get, and is told so.
schalt_install_packages () {
    local -a missing sudo=()
    mapfile -t missing < <(schalt_missing_packages "$@")
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    if [ "$(id -u)" -eq 0 ]; then
        schalt_say "installing missing Debian packages: ${missing[*]}"
    elif command -v sudo >/dev/null; then
        schalt_say "installing missing Debian packages with sudo: ${missing[*]}"
        sudo=(sudo)
    else
        schalt_die "missing Debian packages: ${missing[*]}; as root run:" \
            "apt-get update && apt-get install --no-install-recommends ${missing[*]}"
    fi
    if [ "$SCHALT_APT_UPDATED" -eq 0 ]; then
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
        SCHALT_APT_UPDATED=1
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"
    mapfile -t missing < <(schalt_missing_packages "$@")
    if [ "${#missing[@]}" -ne 0 ]; then
        schalt_die "still not installed: ${missing[*]}"
    fi
}

# ---------------------------------------------------------------------------
# Services and their pid files

# Set the array SCHALT_ARGV to the exact command line of service NAME: redis,
# mailcatcher, or one of SCHALT_DAEMONS. Paths are absolute, so that the command
# line identifies this checkout's service.
schalt_service_argv () {
    case "$1" in
        redis)
            SCHALT_ARGV=(/usr/bin/redis-server "$SCHALT_REDIS_CONF"
                --dir "$SCHALT_VAR/redis" --logfile "$SCHALT_VAR/log/redis.log") ;;
        mailcatcher)
            # aiosmtpd's Mailbox handler stores each message in a Maildir;
            # -n: do not try to setuid to nobody (who could not write there).
            SCHALT_ARGV=("$SCHALT_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$SCHALT_SMTP_PORT"
                -c aiosmtpd.handlers.Mailbox "$SCHALT_VAR/mail") ;;
        *)
            SCHALT_ARGV=("$SCHALT_BIN/schalt-$1" -c "$SCHALT_CFG") ;;
    esac
}

# Print the pid file of service NAME.
schalt_pid_file () {
    printf '%s/run/%s.pid\n' "$SCHALT_VAR" "$1"
}

# Return 0 if process PID exists and has not exited (a zombie has exited).
schalt_alive () {
    [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*[ZX]' "/proc/$1/status" 2>/dev/null
}

# Return 0 if process PID runs exactly the command line ARG...
schalt_pid_runs () {
    local pid=$1
    shift
    cmp -s <(printf '%s\0' "$@") "/proc/$pid/cmdline" 2>/dev/null
}

# Return 0 if service NAME runs under its pid file, and set SCHALT_PID to its pid;
# else return 1 (no pid file, or its pid is gone or now runs something else).
schalt_running () {
    local file pid
    file=$(schalt_pid_file "$1")
    SCHALT_PID=
    [ -r "$file" ] || return 1
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    schalt_service_argv "$1"
    schalt_pid_runs "$pid" "${SCHALT_ARGV[@]}" || return 1
    SCHALT_PID=$pid
}

# Start service NAME in its own session (it survives this shell and its terminal),
# output appended to var/log/NAME.log, pid in var/run/NAME.pid; sets SCHALT_PID.
# setsid does not fork here (a background job of a script is no group leader), so
# $! is the service's own pid once setsid has exec'd it.
schalt_start () {
    local name=$1
    local -a settings=()
    schalt_service_argv "$name"
    # The link keys deploy/up made, unless the configuration names its own file
    if ! grep -Eq '^[[:space:]]*token_keys[[:space:]]*=' "$SCHALT_CFG" 2>/dev/null; then
        settings=("SCHALT_SCHALTSTELLE_TOKEN_KEYS=$SCHALT_TOKEN_KEYS")
    fi
    env "${settings[@]}" setsid "${SCHALT_ARGV[@]}" </dev/null >>"$SCHALT_VAR/log/$name.log" 2>&1 &
    SCHALT_PID=$!
    printf '%s\n' "$SCHALT_PID" >"$(schalt_pid_file "$name")"
}

# Poll CHECK ARG... every 0.2 s for up to SECONDS. CHECK returns 0 when ready,
# 1 for "not yet", 2 or more to give up. Returns 0 if ready, 1 on timeout,
# else CHECK's code.
schalt_wait () {
    local tries=$(($1 * 5)) rc
    shift
    while :; do
        if "$@"; then
            return 0
        else
            rc=$?
        fi
        if [ "$rc" -ge 2 ]; then
            return "$rc"
        fi
        tries=$((tries - 1))
        if [ "$tries" -le 0 ]; then
            return 1
        fi
        sleep 0.2
    done
}

# Return 0 if something accepts TCP connections on 127.0.0.1:PORT.
schalt_port_open () {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Return 0 once process PID no longer runs the command line ARG..., else 1.
schalt_gone () {
    ! schalt_pid_runs "$@"
}

# Stop service NAME by its pid file: SIGTERM, up to 10 s, then SIGKILL. A pid file
# whose pid is gone or runs something else is just removed. Returns 0 when NAME
# no longer runs, 1 if it could not be stopped.
schalt_stop () {
    local name=$1 file pid
    file=$(schalt_pid_file "$name")
    [ -e "$file" ] || return 0
    if ! schalt_running "$name"; then
        pid=$(<"$file")
        if [[ $pid =~ ^[0-9]+$ ]] && schalt_alive "$pid"; then
            schalt_say "$name: pid $pid is another program now; left alone, stale pid file removed"
        else
            schalt_say "$name: not running; stale pid file removed"
        fi
        rm -f "$file"
        return 0
    fi
    pid=$SCHALT_PID
    if ! kill -TERM "$pid" 2>/dev/null && ! schalt_gone "$pid" "${SCHALT_ARGV[@]}"; then
        schalt_warn "$name: cannot signal pid $pid (started by another user?)"
        return 1
    fi
    if ! schalt_wait 10 schalt_gone "$pid" "${SCHALT_ARGV[@]}"; then
        schalt_warn "$name: pid $pid still runs 10 s after SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        if ! schalt_wait 5 schalt_gone "$pid" "${SCHALT_ARGV[@]}"; then
            schalt_warn "$name: pid $pid survived SIGKILL"
            return 1
        fi
    fi
    rm -f "$file"
    schalt_say "$name: stopped (pid $pid)"
}
