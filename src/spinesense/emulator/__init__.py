"""A virtual reference sensor on the bumble BLE stack, for tests and demos."""
