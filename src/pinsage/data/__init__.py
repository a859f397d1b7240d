"""Tables in, tables out: sources → canonical tables (schema) → time split → item features. No DGL."""
