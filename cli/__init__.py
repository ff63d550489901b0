"""The `asr` command line: one entry, one thin module per subcommand."""
