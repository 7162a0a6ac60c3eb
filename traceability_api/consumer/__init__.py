"""The Digital Link resolver, consumer pages, e-commerce embeds, label printing and scan log."""
