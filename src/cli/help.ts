// `--help` texts, one per command, kept next to each other so they read as one manual.
export const HELP: Record<string, string> = {
  main: `portico — the production web stack in one process tree

Usage: portico <command> [options]

Commands:
  up           start the stack (listeners, routing, proxy, app workers)
  check        validate the config and print every error with its path
  routes       print the routing table; --explain URL shows which route a URL takes
  middleware   print the chain a request on a route passes, in order
  status       ask a running stack for its state (through the admin API)
  reload       ask a running stack to reload its config and apps with zero downtime
  pool         drain or undrain a pool's server at runtime (through the admin API)
  serve        run just the app server for one app module (like gunicorn), no config file
  cert         local development CA: install-ca, issue HOST… (for https listeners)

Common options:
  -c, --config FILE   config file (default: ./portico.config.ts)
  -h, --help          help for a command: portico <command> --help
`,
  up: `Usage: portico up [--config FILE]

Starts the stack described by the config: app workers first (an app that fails to load stops the
start with its error and a non-zero exit), then the listeners and the admin API.
SIGTERM or SIGINT stop it gracefully: listeners close, in-flight requests finish (bounded by
shutdownTimeout), workers exit; a second signal exits at once. SIGHUP reloads like \`portico reload\`.
With \`processes: N\` (or 'auto') in the config, N data-plane processes serve the same ports
(SO_REUSEPORT): this one runs the workers and the admin API, the others are restarted if they die,
and stop, reload and SIGUSR1 reach them all.

Environment:
  PORTICO_HTTP_PORT     overrides the first listener's port
  PORTICO_RUNTIME_DIR   overrides runtimeDir (worker and admin sockets)
  PORTICO_ACCESS_LOG    "off" to silence access log lines on stdout
`,
  check: `Usage: portico check [--config FILE]

Loads and validates the config without starting anything. Prints every error with its field path,
e.g. routes[2].upstream: unknown pool "api" (known: web, assets), and exits 1 if there is any.
`,
  routes: `Usage: portico routes [--config FILE] [--explain URL]

Prints the routing table in precedence order. With --explain, shows the route a URL would take and
why: exact host beats wildcard beats any host; then the longest path prefix; then config order.
`,
  middleware: `Usage: portico middleware [PATH] [--host HOST] [--config FILE]

Prints, in order, the stages a request for PATH (default /) passes: the data-plane part (edge,
routing, the route's target) and, for app routes, the app's own middleware chain when the app
exposes it (Portico's framework does, like \`rails middleware\`).
`,
  status: `Usage: portico status [--config FILE] [--json]

Prints the running stack's state from its admin API: listeners, then a table per app with each
worker's slot, generation, pid, state, uptime, requests served, requests in flight, restarts, RSS
and event-loop lag (p99 over the last second). --json prints the raw state instead (pools and
routes included), for scripts.
`,
  serve: `Usage: portico serve APP [--workers N|auto] [--port PORT] [--host HOST]
                     [--timeout SECONDS] [--graceful-timeout SECONDS]
                     [--max-requests N] [--max-requests-jitter N]

Runs the app module APP (\`export default { fetch(request) }\` or \`export default (req, res) => …\`,
JavaScript or TypeScript) in worker processes that share one listening socket and accept
connections themselves (direct mode, like gunicorn and node:cluster), without the data plane:
put it behind nginx, or use \`portico up\` for the whole stack.

Options:
  -w, --workers N|auto      worker processes; auto = one per core (default 1)
  -p, --port PORT           TCP port (default 3000; 0 picks a free one, printed at start)
      --host HOST           address to bind (default 127.0.0.1; 0.0.0.0 for every interface)
      --timeout S           a worker whose event loop answers no heartbeat for S seconds is
                            killed and replaced (default 30)
      --graceful-timeout S  how long stopping workers may finish in-flight requests (default 30)
      --max-requests N      replace a worker gracefully after N requests (default 0: never)
      --max-requests-jitter J  add a random 0..J to each worker's --max-requests

A worker that crashes is replaced at once, with exponential backoff when it keeps crashing.
An app that fails to import stops the start with its error and exit code 1.
Signals: SIGTERM/SIGINT stop gracefully (in-flight requests finish, then every process exits;
a second signal exits at once); SIGHUP rolls the workers one by one onto the code on disk, and
refuses (old workers keep serving) if the new code does not load.
`,
  pool: `Usage: portico pool drain|undrain POOL SERVER [--config FILE]

Drains SERVER in POOL of a running stack: it takes no new requests and finishes those in flight
(a deploy takes it out this way); undrain puts it back. SERVER is its address as \`portico status
--json\` shows it (host:port, or unix:/path for a socket) or its url. App pools are named app:NAME.
Draining is runtime state: it survives \`portico reload\`, not a restart. Exits 1 when the pool or
server is unknown.
`,
  cert: `Usage: portico cert install-ca [--config FILE]
       portico cert issue [HOST…] [--config FILE]

A local development CA, kept in the config's runtime dir (dev-ca/; ./.portico without a config).
install-ca creates the CA once (an ECDSA P-256 key, 10 years) and prints how to make clients trust
it; it does not change the system trust store itself. issue signs a 90-day leaf certificate for
the given hosts (names, *.wildcards, IP addresses; default: the routes' hosts and localhost) and
prints the file paths for listeners[].tls.certs. A listener with \`tls: 'dev'\` does both at start.
Needs the openssl binary (OpenSSL 3).
`,
  reload: `Usage: portico reload [--config FILE]

Reloads the running stack: the config file is read and validated again; apps roll over to new
workers with zero downtime. A config or app that fails to load is refused and the old one keeps serving.
`,
};
