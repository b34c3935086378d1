"""Browser tests of the public pages. A package, so its conftest and helpers never shadow
the `conftest` module that the integration tests import from."""
