"""WebArena and WebArena-Lite on self-hosted sites: task files, sites and logins, the harness's evaluators."""
