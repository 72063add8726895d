#!/usr/bin/env bash
# Runs trawl's distributed topology as processes on this machine, for demos
# and tests (docker-compose.yml and k8s/ run the same one in containers):
# 2 crawler workers sharing a frontier in Redis, 2 index shards and the
# document service fed through RabbitMQ, 2 query-API replicas, and nginx
# balancing the replicas. Everything a run owns lives in its directory:
# pids, logs, data, nginx's config and temp files.
#
#   deploy/local.sh up     [--dir DIR] [--port PORT]   start it all, wait for every /healthz
#   deploy/local.sh crawl  [--dir DIR] URL... [CRAWL_FLAGS...]
#   deploy/local.sh status [--dir DIR]
#   deploy/local.sh down   [--dir DIR]                 SIGTERM everything, wait for clean exits
#
# DIR defaults to run/local in the repository ($TRAWL_LOCAL_DIR overrides).
# The search is served by nginx on 127.0.0.1:PORT (default: a free port).
#
# `crawl` restarts the crawler workers with the new seeds added to those of
# earlier calls: a worker's scope (--scope, default: the seeds' hosts) comes
# from its own seeds, so a seed handed to running workers (`trawl seed`)
# would be fetched but its links would be out of scope. A SIGTERM drains a
# worker and the frontier stays in Redis, so a restart loses nothing.
# CRAWL_FLAGS start at the first argument beginning with `-` and go to
# `trawl crawl` as they are (e.g. --allow-private --delay-ms 0 --resolve
# HOST=IP); they replace the flags of the previous call, whose flags stay
# when a call gives none.
#
# Environment:
#   TRAWL_BIN           the binary [default: target/release/trawl, else
#                       target/debug/trawl, under $CARGO_TARGET_DIR or target/]
#   TRAWL_REDIS         [default: redis://127.0.0.1:6379]
#   TRAWL_AMQP          [default: amqp://guest:guest@127.0.0.1:5672/%2f]
#   TRAWL_LOCAL_PREFIX  Redis key prefix and RabbitMQ name prefix of a new
#                       run [default: trawl-local-<time>-<pid>, so that runs
#                       never share keys or queues]
#   TRAWL_WAIT_SECS     how long `up` waits for health, `down` for exits [60]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shards=2
workers=2
replicas=2
wait_secs=${TRAWL_WAIT_SECS:-60}

usage() {
  sed -n '/^#   deploy/p' "${BASH_SOURCE[0]}" | sed 's/^#   /usage: /' >&2
  exit 2
}

die() {
  echo "local.sh: $*" >&2
  exit 1
}

find_binary() {
  if [ -n "${TRAWL_BIN:-}" ]; then
    [ -x "$TRAWL_BIN" ] || die "TRAWL_BIN=$TRAWL_BIN is not an executable"
    echo "$TRAWL_BIN"
    return
  fi
  local target=${CARGO_TARGET_DIR:-$repo/target} profile
  for profile in release debug; do
    if [ -x "$target/$profile/trawl" ]; then
      echo "$target/$profile/trawl"
      return
    fi
  done
  die "no trawl binary in $target/release or $target/debug: run cargo build, or set TRAWL_BIN"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nothing listens on now, and not handed out earlier in this run.
# Picked in 20000-32767, below the kernel's ephemeral range (32768 and up
# by default), where the local end of any outgoing connection could take
# it before our process binds it; trawl's tests pick theirs in 10000-19999.
# Another program may still bind it first: `up` then fails on that
# process's health, with its log.
taken_ports=" "
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 12768))
    case $taken_ports in *" $port "*) continue ;; esac
    port_in_use "$port" && continue
    taken_ports+="$port "
    echo "$port"
    return
  done
}

healthy() { curl -fsS -o /dev/null --max-time 2 "http://$1/healthz" 2>/dev/null; }

alive() { [ -f "$dir/pids/$1.pid" ] && kill -0 "$(cat "$dir/pids/$1.pid")" 2>/dev/null; }

# Starts `name` from the rest of the arguments, in the background, with its
# output in logs/NAME.log. A wrapper shell waits for it and writes its exit
# status to pids/NAME.exit: the process outlives this script, so `down`
# (another invocation) could not learn its status otherwise.
start() {
  local name=$1
  shift
  rm -f "$dir/pids/$name.pid" "$dir/pids/$name.exit"
  (
    set +e
    "$@" </dev/null >>"$dir/logs/$name.log" 2>&1 &
    echo $! >"$dir/pids/$name.pid"
    wait $!
    echo $? >"$dir/pids/$name.exit"
  ) </dev/null >/dev/null 2>&1 &
  while [ ! -s "$dir/pids/$name.pid" ]; do sleep 0.05; done
}

# Waits until `name` answers /healthz on `address`; fails if it exits first.
wait_healthy() {
  local name=$1 address=$2 deadline=$((SECONDS + wait_secs))
  until healthy "$address"; do
    if ! alive "$name"; then
      tail -n 20 "$dir/logs/$name.log" >&2 || true
      die "$name exited before it was healthy (log: $dir/logs/$name.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      die "$name not healthy on $address after ${wait_secs}s (log: $dir/logs/$name.log)"
    fi
    sleep 0.2
  done
}

# Sends SIGTERM to `names` and waits for them to exit; kills those still
# running after $wait_secs. Fails if any had to be killed or exited non-zero.
stop() {
  local name failed=0 deadline=$((SECONDS + wait_secs)) status
  for name in "$@"; do
    if alive "$name"; then kill -TERM "$(cat "$dir/pids/$name.pid")" 2>/dev/null || true; fi
  done
  for name in "$@"; do
    [ -f "$dir/pids/$name.pid" ] || continue
    while alive "$name" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if alive "$name"; then
      echo "local.sh: $name did not exit within ${wait_secs}s of SIGTERM: killed" >&2
      kill -KILL "$(cat "$dir/pids/$name.pid")" 2>/dev/null || true
      failed=1
    fi
    # The wrapper writes the status just after its process exits.
    for _ in $(seq 100); do
      [ -f "$dir/pids/$name.exit" ] && break
      sleep 0.05
    done
    status=$(cat "$dir/pids/$name.exit" 2>/dev/null || echo unknown)
    if [ "$status" != 0 ]; then
      echo "local.sh: $name exited with status $status (log: $dir/logs/$name.log)" >&2
      failed=1
    fi
    rm -f "$dir/pids/$name.pid"
  done
  return $failed
}

load_run() {
  [ -f "$dir/run.env" ] || die "no run in $dir: deploy/local.sh up --dir $dir first"
  # shellcheck source=/dev/null
  source "$dir/run.env"
  trawl=$(find_binary)
}

start_crawlers() {
  local seeds=() flags=() i
  [ -f "$dir/seeds" ] && mapfile -t seeds <"$dir/seeds"
  [ -f "$dir/crawl-flags" ] && mapfile -t flags <"$dir/crawl-flags"
  local seed_args=()
  for i in "${seeds[@]}"; do seed_args+=(--seed "$i"); done
  for ((i = 0; i < workers; i++)); do
    start "crawler-$i" "$trawl" crawl --redis "$redis_url" --redis-prefix "$prefix" \
      --amqp "$amqp_url" --amqp-prefix "$prefix" --shards "$shards" \
      --data-dir "$dir/data/crawler-$i" --listen "127.0.0.1:${crawler_ports[$i]}" \
      "${seed_args[@]}" "${flags[@]}"
  done
  for ((i = 0; i < workers; i++)); do wait_healthy "crawler-$i" "127.0.0.1:${crawler_ports[$i]}"; done
}

# Every process of the run, in the order `down` stops them: first what
# produces pages, then what serves, last what consumes (they commit and
# acknowledge what they hold).
crawler_names() { local i; for ((i = 0; i < workers; i++)); do echo "crawler-$i"; done; }
api_names() { local i; for ((i = 0; i < replicas; i++)); do echo "api-$i"; done; }
consumer_names() { local i; for ((i = 0; i < shards; i++)); do echo "shard-$i"; done; echo docs; }

write_nginx_conf() {
  local i user_line=""
  mkdir -p "$dir/nginx"
  # nginx run as root hands its workers to "nobody", who may not reach
  # DIR (e.g. under /root): keep the invoking user.
  [ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);"
  {
    echo "# Generated by deploy/local.sh; the proxy rules are deploy/nginx/trawl-locations.conf."
    echo "$user_line"
    echo "worker_processes 1;"
    echo "daemon off;"
    echo "pid $dir/nginx/nginx.pid;"
    echo "error_log $dir/logs/nginx.log warn;"
    echo "events { worker_connections 1024; }"
    echo "http {"
    echo "  access_log $dir/logs/nginx-access.log;"
    for temp in client_body proxy fastcgi uwsgi scgi; do
      echo "  ${temp}_temp_path $dir/nginx/$temp;"
    done
    echo "  upstream trawl_api {"
    for ((i = 0; i < replicas; i++)); do echo "    server 127.0.0.1:${api_ports[$i]};"; done
    echo "    keepalive 16;"
    echo "  }"
    echo "  server {"
    echo "    listen 127.0.0.1:$nginx_port;"
    echo "    include $repo/deploy/nginx/trawl-locations.conf;"
    echo "  }"
    echo "}"
  } >"$dir/nginx/nginx.conf"
}

cmd_up() {
  local i
  for name in $(crawler_names) $(consumer_names) $(api_names) nginx; do
    alive "$name" && die "$name of $dir is running: deploy/local.sh down --dir $dir first"
  done
  trawl=$(find_binary)
  command -v nginx >/dev/null || die "nginx is not installed (scripts/setup installs it)"
  command -v curl >/dev/null || die "curl is not installed"
  mkdir -p "$dir/pids" "$dir/logs" "$dir/data"
  # A run directory keeps its names and ports: up again resumes the crawl.
  if [ -f "$dir/run.env" ]; then
    # shellcheck source=/dev/null
    source "$dir/run.env"
    if [ -n "$port" ]; then nginx_port=$port; fi
  else
    prefix=${TRAWL_LOCAL_PREFIX:-trawl-local-$(date +%s)-$$}
    redis_url=${TRAWL_REDIS:-redis://127.0.0.1:6379}
    amqp_url=${TRAWL_AMQP:-amqp://guest:guest@127.0.0.1:5672/%2f}
    nginx_port=${port:-$(free_port)}
    crawler_ports=() shard_ports=() api_ports=()
    for ((i = 0; i < workers; i++)); do crawler_ports+=("$(free_port)"); done
    for ((i = 0; i < shards; i++)); do shard_ports+=("$(free_port)"); done
    docs_port=$(free_port)
    for ((i = 0; i < replicas; i++)); do api_ports+=("$(free_port)"); done
  fi
  declare -p prefix redis_url amqp_url nginx_port crawler_ports shard_ports docs_port api_ports \
    | sed 's/^declare -[a-zA-Z-]* //' >"$dir/run.env"
  port_in_use "$nginx_port" && die "port $nginx_port is in use"

  # If any step fails, stop what started.
  trap 'echo "local.sh: up failed: stopping what started" >&2; cmd_down >/dev/null 2>&1 || true' EXIT
  for ((i = 0; i < shards; i++)); do
    start "shard-$i" "$trawl" index --amqp "$amqp_url" --amqp-prefix "$prefix" \
      --shard "$i" --shards "$shards" \
      --data-dir "$dir/data/shard-$i" --listen "127.0.0.1:${shard_ports[$i]}"
  done
  start docs "$trawl" docs --amqp "$amqp_url" --amqp-prefix "$prefix" --shards "$shards" \
    --data-dir "$dir/data/docs" --listen "127.0.0.1:$docs_port"
  for ((i = 0; i < shards; i++)); do wait_healthy "shard-$i" "127.0.0.1:${shard_ports[$i]}"; done
  wait_healthy docs "127.0.0.1:$docs_port"

  for ((i = 0; i < replicas; i++)); do
    start "api-$i" "$trawl" serve --listen "127.0.0.1:${api_ports[$i]}" \
      --shard "http://127.0.0.1:${shard_ports[0]}" --shard "http://127.0.0.1:${shard_ports[1]}" \
      --docs "http://127.0.0.1:$docs_port"
  done
  for ((i = 0; i < replicas; i++)); do wait_healthy "api-$i" "127.0.0.1:${api_ports[$i]}"; done

  write_nginx_conf
  start nginx nginx -p "$dir/nginx" -e "$dir/logs/nginx.log" -c "$dir/nginx/nginx.conf"
  wait_healthy nginx "127.0.0.1:$nginx_port"

  start_crawlers
  trap - EXIT
  echo "http://127.0.0.1:$nginx_port/" >"$dir/search-url"
  echo "trawl is up in $dir (prefix $prefix); seed it with: deploy/local.sh crawl --dir $dir URL..."
  echo "search at http://127.0.0.1:$nginx_port/"
}

cmd_crawl() {
  load_run
  local urls=() flags=()
  while [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; do
    urls+=("$1")
    shift
  done
  flags=("$@")
  [ ${#urls[@]} -gt 0 ] || die "crawl: give at least one URL"
  printf '%s\n' "${urls[@]}" >>"$dir/seeds"
  [ ${#flags[@]} -gt 0 ] && printf '%s\n' "${flags[@]}" >"$dir/crawl-flags"
  # shellcheck disable=SC2046
  stop $(crawler_names) || die "a crawler worker did not stop cleanly"
  start_crawlers
  echo "crawling $(wc -l <"$dir/seeds") seeds with $workers workers; search at $(cat "$dir/search-url")"
}

cmd_status() {
  load_run
  local name address i down=0
  describe() {
    local name=$1 address=$2 state
    if alive "$name"; then
      if healthy "$address"; then state=healthy; else state="running, not healthy"; fi
      state="$state (pid $(cat "$dir/pids/$name.pid"))"
    elif [ -f "$dir/pids/$name.exit" ]; then
      state="exited with status $(cat "$dir/pids/$name.exit")"
      down=1
    else
      state="not started"
      down=1
    fi
    printf '%-10s %-22s %s\n' "$name" "$address" "$state"
  }
  for ((i = 0; i < workers; i++)); do describe "crawler-$i" "127.0.0.1:${crawler_ports[$i]}"; done
  for ((i = 0; i < shards; i++)); do describe "shard-$i" "127.0.0.1:${shard_ports[$i]}"; done
  describe docs "127.0.0.1:$docs_port"
  for ((i = 0; i < replicas; i++)); do describe "api-$i" "127.0.0.1:${api_ports[$i]}"; done
  describe nginx "127.0.0.1:$nginx_port"
  echo "search at http://127.0.0.1:$nginx_port/ (prefix $prefix, logs in $dir/logs)"
  return $down
}

cmd_down() {
  [ -f "$dir/run.env" ] || die "no run in $dir"
  # shellcheck source=/dev/null
  source "$dir/run.env"
  local failed=0
  # shellcheck disable=SC2046
  stop $(crawler_names) || failed=1
  # shellcheck disable=SC2046
  stop nginx $(api_names) || failed=1
  # shellcheck disable=SC2046
  stop $(consumer_names) || failed=1
  if [ $failed -ne 0 ]; then
    echo "local.sh: stopped, but not every process exited cleanly" >&2
    return 1
  fi
  echo "stopped; data and logs stay in $dir"
}

[ $# -ge 1 ] || usage
command=$1
shift
dir=${TRAWL_LOCAL_DIR:-$repo/run/local}
port=""
while [ $# -gt 0 ]; do
  case $1 in
    --dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
    --port)
      if [ $# -lt 2 ] || [ "$command" != up ]; then usage; fi
      port=$2
      shift 2
      ;;
    *) break ;;
  esac
done
if [ "$command" = up ]; then mkdir -p "$dir"; fi
[ -d "$dir" ] || die "no run in $dir"
dir=$(cd "$dir" && pwd)

case $command in
  up) [ $# -eq 0 ] || usage; cmd_up ;;
  crawl) cmd_crawl "$@" ;;
  status) [ $# -eq 0 ] || usage; cmd_status ;;
  down) [ $# -eq 0 ] || usage; cmd_down ;;
  *) usage ;;
esac
