//! Local emulator of the Segment Public API IAM surface, for tests and demos.
