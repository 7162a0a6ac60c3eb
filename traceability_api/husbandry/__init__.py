"""Livestock, poultry, aquaculture and ornamentals (Dong Thap sectors): activities, withdrawal periods, animal identities, trays, pond alerts."""
