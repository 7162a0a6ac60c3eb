"""Farms, plots / planting areas (mã số vùng trồng), facilities and vehicles."""
