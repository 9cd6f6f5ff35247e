"""Files shipped with the application (reference data, default rule sets, translations,
vendored web assets). Found through importlib.resources so a frozen build finds them too."""
