"""Registries the province keeps: certificates as records (scheme, number, issuer, scope, validity,
document, verification, revocation) and registered planting-area / packing-house codes with the
importing markets each code is registered for.  Capture checks here stop harvests on a suspended
area and export shipments whose inputs are not registered for the destination market."""
