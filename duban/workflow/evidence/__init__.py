"""佐证材料: evidence files uploaded with reports and extension requests, and what 办结 needs."""
