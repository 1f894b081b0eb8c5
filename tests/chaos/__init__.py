"""The chaos suite: faults in every system and kill -9 of the engine, judged against a clean run."""
