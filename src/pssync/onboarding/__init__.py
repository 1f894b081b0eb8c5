"""Bringing a firm's own data in: CSV files through a savable column mapping, and the
governance checks run over what the golden store already holds."""
