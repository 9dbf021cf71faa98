"""duban 督办: policy documents become supervised tasks."""
