"""Configuration over the API: the GDPR and order-records documents, their validation and the cache in force."""
