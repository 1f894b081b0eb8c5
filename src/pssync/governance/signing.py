"""Standard Webhooks signatures, for governance's notifications (`notify`): the scheme lives
with the engine's webhook ingress (`engine.signing`), which verifies the same signatures."""

from pssync.engine.signing import secret_key, sign

__all__ = ["secret_key", "sign"]
