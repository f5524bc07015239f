"""The composition root: the one place that builds, wires, starts and stops every object."""
