"""Evidence: farm diaries with attachments, food-safety checks, sensors and their summaries."""
