"""The Dutch texts (Jinja2) and the questionnaire: data only, a package so that a wheel ships them."""
