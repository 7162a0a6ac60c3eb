"""Livestock, poultry, aquaculture and ornamentals (the Dong Thap sectors): activities, withdrawal
periods, tagged animals, egg trays, sensor thresholds and alerts."""
