"""One module per kind builds that kind's engine (its adapters, in dependency order)."""
