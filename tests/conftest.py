"""Suite-wide settings. Fixtures for the emulators live next to the tests that use them."""
