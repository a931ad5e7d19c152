"""The foundation every layer imports: the schema, the configuration, the run history and the
session contract. Imports nothing above itself and no heavy library (`--help` stays instant)."""
