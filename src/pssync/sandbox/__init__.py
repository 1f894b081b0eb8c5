"""Local emulators of the real systems and the synthetic services firm they are seeded with."""
