"""The API: FastAPI + strawberry GraphQL, authentication and roles, REST, the web explorer."""
