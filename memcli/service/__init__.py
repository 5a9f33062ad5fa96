"""What the commands do: each function takes settings and plain values, returns records."""
