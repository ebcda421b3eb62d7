"""The app's pages: chat at /, /login, /signup and /admin."""
