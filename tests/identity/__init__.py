"""Tests of the identity adapters against local fakes of auth0-client, a CRUD users collection and a JWKS."""
