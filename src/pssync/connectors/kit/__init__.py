"""The connector kit: the parts every connector used to write for itself, written once.

- `catalog`: the objects a connector serves, declared (name, ID field, modified field, page
  size, external-ID key, which objects reference or nest which);
- `cursor`: the timestamp change cursor (modified-since, an overlap window, ID tiebreak,
  fingerprints at the boundary), in the JSON shape the engine already stores;
- `upsert`: create-or-update by external ID, idempotent under replays, given only the calls
  it needs (look up, create, update);
- `transport`: an httpx base with a `classify(response)` hook and tenacity retries.

See docs/connectors.md, "Writing a connector with the kit".
"""
