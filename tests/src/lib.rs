//! Integration tests: the facade against the emulator over real HTTP.
