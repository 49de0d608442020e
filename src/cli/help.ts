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

Common options:
  -c, --config FILE   config file (default: ./portico.config.ts)
  -h, --help          help for a command: portico <command> --help
`,
  up: `Usage: portico up [--config FILE]

Starts the stack described by the config: app workers first (an app that fails to load stops the
start with its error and a non-zero exit), then the listeners and the admin API.
SIGTERM or SIGINT stop it gracefully: listeners close, in-flight requests finish (bounded by
shutdownTimeout), workers exit; a second signal exits at once. SIGHUP reloads like \`portico reload\`.

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
  status: `Usage: portico status [--config FILE]

Prints the running stack's state (listeners, workers, pools) from its admin API.
`,
  reload: `Usage: portico reload [--config FILE]

Reloads the running stack: the config file is read and validated again; apps roll over to new
workers with zero downtime. A config or app that fails to load is refused and the old one keeps serving.
`,
};
