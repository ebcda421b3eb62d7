"""Back-end services of the app: the companion server, accounts and files."""
