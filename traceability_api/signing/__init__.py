"""Event signatures: organisations' signing keys (registered on chain, mirrored here for capture),
custodial keys held by the service, and the capture gate that refuses forged events."""
