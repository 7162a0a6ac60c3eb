"""Products (GTIN-14), lots (GTIN + lot code), quantities and serialised units."""
