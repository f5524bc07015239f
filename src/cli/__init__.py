"""`pocketquant`, the command line: an entry point like `src.main` (it may import `src.app`). Commands talk
to a running service over its HTTP API, or build the service in-process through the composition root
(`src.app.root.bootstrap`) where they say so. Exit codes: 0 ok, 1 usage, 2 a problem reported by the server
(or the command), 3 the server could not be reached; `--json` prints one JSON document for scripts."""
